"""Helpers for the EOPF Zarr tutorial book.

Notebooks import only the reader-facing modules: `data_source` (which STAC
service to use), `traffic` (what a read cost), `gridding` (swath to map) and
`errors` (clear one-line failures). `sample_service` is the local replica of
the EOPF Sample Service that the book runs on by default.
"""
