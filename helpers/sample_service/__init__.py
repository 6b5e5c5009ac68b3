"""A local replica of the EOPF Sample Service: a STAC API and Zarr stores over HTTP.

Structure, metadata, shapes, chunking and codecs replicate real EOPF products; pixel values
are synthetic (`scenes/`). From the data up: `settings`, `errors`, `timefmt`, `solar`,
`polling`, `origin`; `catalog` (the records of ``templates/catalogue/``), `cpm_versions` (how
products changed between processor versions); `stac_items`, `search`, `stac_api`,
`stac_routes` (the routes and their OpenAPI document); `products_generic`, `products`,
`scenes/`, `cache`, `zarr_store`; the Zarr v3 staging collection (`zarr3_catalog`,
`zarr3_items`, `zarr3_store`); `http_ranges`; the SAFE replica (`safe_metadata`,
`safe_archive`, `safe`); `faults`, `app`, `launcher` (start, reuse or run the service), and
the entry script `__main__`.
"""
