"""A local replica of the EOPF Sample Service: a STAC API and Zarr stores over HTTP.

Structure, metadata, shapes, chunking and codecs replicate real EOPF products; pixel values
are synthetic (`scenes`). Modules, from the data up:

- `settings` (environment variables, port, paths), `errors`, `timefmt`, `solar`;
- `catalog` (the product records of ``templates/catalogue/``), `stac_items` (their STAC view);
- `stac_api`, `search` and `stac_routes`: one STAC API over any catalogue;
- `products` (Zarr metadata from templates), `scenes/` (pixel values), `cache`
  (integrity-checked chunks), `zarr_store` (keys to bytes);
- `safe`, `safe_archive`, `safe_names`, `safe_metadata`, `safe_documents`: the SAFE replica;
- `faults` (fault injection), `origin`, `app` (the HTTP application), `launcher` (start or
  reuse the service), `polling` (wait until something answers), and the entry script
  `__main__` (``make serve``).
"""
