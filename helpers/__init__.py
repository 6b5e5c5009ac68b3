"""Helpers for the EOPF Zarr tutorial book.

Notebooks import only the reader-facing modules: `data_source` (which STAC service to use),
`credentials` (the SAFE chapter's CDSE access), `traffic` (what a read cost), `gridding`
(swath to map), `memory` (what a computation held) and `errors` (clear one-line failures);
`retries` makes every HTTP read survive a flaky network. `sample_service` is the local
replica of the EOPF Sample Service that the book runs on by default; it imports none of the
reader-facing modules.
"""
