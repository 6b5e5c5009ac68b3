"""A local replica of the EOPF Sample Service: a STAC API and Zarr stores over HTTP.

Structure, metadata, shapes, chunking and codecs replicate real EOPF products;
pixel values are synthetic (see `scenes`).
"""
