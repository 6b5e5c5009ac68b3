"""A local replica of the EOPF Sample Service: a STAC API and Zarr stores over HTTP.

Structure, metadata, shapes, chunking and codecs replicate real EOPF products; pixel values
are synthetic (`scenes`). From the data up: `settings`, `errors`, `timefmt`, `solar`; `catalog`
(the records of ``templates/catalogue/``) and `stac_items`; `stac_api`, `search`, `stac_routes`;
`products`, `scenes/`, `cache`, `zarr_store`; the SAFE replica (`safe*`); `faults`, `origin`,
`app`, `launcher` (start or reuse the service), `polling`, and the entry script `__main__`.
"""
