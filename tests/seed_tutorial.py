# ruff: noqa: E501 (the tutorial's lines are kept as it wrote them)
"""The code blocks of the tutorial this book grows from, kept verbatim as the book's contract.

Source: "EOPF STAC Zarr Asset Access with xarray", eopf-toolkit/eopf-tooling-guide,
docs/tutorials/stac_zarr/python/eopf_stac_zarr_xarray.md (the book's seed). Every block except
the SAFE one (which needs Copernicus Data Space credentials and is exercised by the SAFE chapter)
is kept here byte for byte, with only the STAC root URL replaced by the placeholder
`STAC_ROOT_URL`, so that `tests/test_seed_acceptance.py` can run them against the sample service
and compare what they print with the tutorial's comments.
"""

LIVE_ROOT_URL = "https://stac.core.eopf.eodc.eu/"

BLOCKS: dict[str, str] = {}

BLOCKS["imports"] = r"""
import itertools
from typing import Optional

import xarray as xr
from pystac import Asset, MediaType
from pystac_client import Client
"""

BLOCKS["find item and assets"] = r"""
client = Client.open("https://stac.core.eopf.eodc.eu/")
collection = client.get_collection(collection_id="sentinel-2-l2a")
item = collection.get_item(
    id="S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
)
assert item is not None, "Expected item does not exist"
print(
    "Fetched collection/item {collection}/{id}".format(
        collection=collection.id, id=item.id
    )
)
# Fetched collection/item sentinel-2-l2a/S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252

# Describe all Zarr assets. Sort by asset href to demonstrate the
# hierarchical relationsips between assets.
top_level_zarr_group_asset: Optional[Asset] = None
for asset_name, asset in sorted(
    item.get_assets(media_type=MediaType.ZARR).items(), key=lambda item: item[1].href
):
    roles = asset.roles or []
    print(
        "Zarr asset {group_path} ({title}) has roles {roles}".format(
            group_path="".join(asset.href.split(".zarr")[-1:]) or "/",
            title=asset.title,
            roles=roles,
        )
    )
    # Identify the top-level Zarr group asset. This is what we will access with xarray.
    if "data" in roles and "metadata" in roles:
        top_level_zarr_group_asset = asset
# Zarr asset / (EOPF Product) has roles ['data', 'metadata']
# Zarr asset /conditions/mask/l2a_classification/r20m/scl (Scene classification map (SCL)) has roles ['data']
# Zarr asset /measurements/reflectance/r10m (Surface Reflectance - 10m) has roles ['data', 'reflectance', 'dataset']
# ...

assert (
    top_level_zarr_group_asset is not None
), "Unable to find top-level Zarr group asset"
print(
    "Asset {name} is the top-level Zarr group asset".format(
        name=top_level_zarr_group_asset.title
    )
)
# Asset EOPF Product is the top-level Zarr group asset
"""

BLOCKS["open datatree"] = r"""
# The same asset can also be opened as a xarray.Dataset using the same kwargs.
# The same variables will be available in xarray.Dataset but in a flat non-nested structure.
dt = xr.open_datatree(
    top_level_zarr_group_asset.href,
    **top_level_zarr_group_asset.extra_fields["xarray:open_datatree_kwargs"],
)
for dt_group in sorted(dt.groups):
    print("DataTree group {group_name}".format(group_name=dt_group))
# DataTree group /
# DataTree group /conditions
# DataTree group /conditions/geometry
# ...
"""

BLOCKS["chunk sizes"] = r"""
dataset_by_resolution = {
    10: dt["/measurements/reflectance/r10m"].to_dataset(),
    20: dt["/measurements/reflectance/r20m"].to_dataset(),
    60: dt["/measurements/reflectance/r60m"].to_dataset(),
}
for resolution, dataset in dataset_by_resolution.items():
    print(
        "Chunk size(s) for {resolution}m resolution dataset: {chunk_sizes}".format(
            resolution=resolution,
            chunk_sizes=set(itertools.chain.from_iterable(dataset.chunksizes.values())),
        )
    )
# Chunk size(s) for 10m resolution dataset: {1830}
# Chunk size(s) for 20m resolution dataset: {915}
# Chunk size(s) for 60m resolution dataset: {305}
"""

BLOCKS["variables"] = r"""
ds_sr10m = dataset_by_resolution[10]
for variable_name, variable in ds_sr10m.data_vars.items():
    print(
        "{asset_name} has variable {variable_name} ({variable_units}): {variable_title}".format(
            asset_name="SR_10m",
            variable_name=variable_name,
            variable_units=variable.attrs["units"],
            variable_title=variable.attrs["long_name"],
        )
    )
# SR_10m has variable b02 (digital_counts): BOA reflectance from MSI acquisition at spectral band b02 492.3 nm
# SR_10m has variable b03 (digital_counts): BOA reflectance from MSI acquisition at spectral band b03 559.0 nm
# SR_10m has variable b04 (digital_counts): BOA reflectance from MSI acquisition at spectral band b04 665.0 nm
# SR_10m has variable b08 (digital_counts): BOA reflectance from MSI acquisition at spectral band b08 833.0 nm
"""

BLOCKS["dimensions and coordinates"] = r"""
print(
    "All spatial data for this STAC item is in EPSG:{epsg_code} https://epsg.io/{epsg_code}".format(
        epsg_code=dt.attrs["stac_discovery"]["properties"]["proj:epsg"]
    )
)
# All spatial data for this STAC item is in EPSG:32626 https://epsg.io/32626
for dimension_name in ds_sr10m.dims:
    print(
        "Dimension {name} has coordinates {coordinates}".format(
            name=dimension_name, coordinates=ds_sr10m.coords[dimension_name]
        )
    )
# Dimension y has coordinates <xarray.DataArray 'y' (y: 10980)> Size: 88kB
# array([4600015, 4600005, 4599995, ..., 4490245, 4490235, 4490225],
#       shape=(10980,))
# Coordinates:
#   * y        (y) int64 88kB 4600015 4600005 4599995 ... 4490245 4490235 4490225
# Dimension x has coordinates <xarray.DataArray 'x' (x: 10980)> Size: 88kB
# array([399965, 399975, 399985, ..., 509735, 509745, 509755], shape=(10980,))
# Coordinates:
#   * x        (x) int64 88kB 399965 399975 399985 399995 ... 509735 509745 509755
"""

BLOCKS["data statistics"] = r"""
# Access a single xarray DataArray from the Dataset.
da_b08 = ds_sr10m["b08"]
print(
    "Mean {value_name} for scene: {mean_nir}".format(
        value_name=da_b08.attrs["long_name"],
        mean_nir=da_b08.mean().compute().item(),
    )
)
# Mean BOA reflectance from MSI acquisition at spectral band b08 833.0 nm for scene: 0.5606077588815395
"""

BLOCKS["sentinel-1 wind direction"] = r"""
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from pystac import Asset
from pystac_client import Client
from scipy.interpolate import griddata

# The sample EOPF STAC API does not currently require authentication but
# this is expected to be a future requirement.

client = Client.open("https://stac.core.eopf.eodc.eu/")
collection = client.get_collection(collection_id="sentinel-1-l2-ocn")
item = collection.get_item(
    id="S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971"
)
product_asset: Asset = item.assets["product"]
dt = xr.open_datatree(
    product_asset.href, **product_asset.extra_fields["xarray:open_datatree_kwargs"]
)
ds = dt[
    "/owi/S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV/measurements"
].to_dataset()
# Measurements DataArrays do not have (latitude, longitude) dimensions and
# instead use (azimuth, range) dimensions to record data positions.
# Latitude and longitude are available as coordinates, and are functions of
# (azimuth, range), but this configuration is not compatible with matplotlib.
# To plot measurements with a 2D chart we first must interpolate values to
# a 2D grid. For simplicity in this example we use unprojected latitude and
# longitude values rather than projecting to a more suitable projected
# spatial reference system.
latitudes_np = np.array(ds.latitude.values)
longitudes_np = np.array(ds.longitude.values)
lat_min, lat_max = np.nanmin(latitudes_np), np.nanmax(latitudes_np)
lon_min, lon_max = np.nanmin(longitudes_np), np.nanmax(longitudes_np)
grid_resolution = 0.01
lat_grid = np.arange(lat_min, lat_max + grid_resolution, grid_resolution)
lon_grid = np.arange(lon_min, lon_max + grid_resolution, grid_resolution)
lon_mesh, lat_mesh = np.meshgrid(lon_grid, lat_grid)
measurement_name = "wind_direction"
latitude_dim_name = "latitude"
longitude_dim_name = "longitude"
gridded_interpolated_values = griddata(
    np.column_stack((latitudes_np.flatten(), longitudes_np.flatten())),
    np.array(ds[measurement_name].values).flatten(),
    (lat_mesh, lon_mesh),
    method="linear",
)
gridded_dataarray = xr.Dataset(
    data_vars={
        measurement_name: (
            [latitude_dim_name, longitude_dim_name],
            gridded_interpolated_values,
        )
    },
    coords={latitude_dim_name: lat_grid, longitude_dim_name: lon_grid},
)[measurement_name]

gridded_dataarray.plot(x=longitude_dim_name, y=latitude_dim_name)
plt.show()
"""

BLOCKS["sentinel-2 tci"] = r"""
import matplotlib.pyplot as plt
import xarray as xr
from pystac import Asset
from pystac_client import Client

# The sample EOPF STAC API does not currently require authentication but
# this is expected to be a future requirement.

client = Client.open("https://stac.core.eopf.eodc.eu/")
collection = client.get_collection(collection_id="sentinel-2-l2a")
item = collection.get_item(
    id="S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
)
product_asset: Asset = item.assets["product"]
dt = xr.open_datatree(
    product_asset.href, **product_asset.extra_fields["xarray:open_datatree_kwargs"]
)
ds = dt["/quality/l2a_quicklook/r60m"].to_dataset()
da = ds["tci"]
da.plot.imshow(rgb="band")
plt.show()
"""

BLOCKS["sentinel-3 gifapar"] = r"""
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from pystac import Asset
from pystac_client import Client
from scipy.interpolate import griddata

# The sample EOPF STAC API does not currently require authentication but
# this is expected to be a future requirement.

client = Client.open("https://stac.core.eopf.eodc.eu/")
collection = client.get_collection(collection_id="sentinel-3-olci-l2-lfr")
item = collection.get_item(
    id="S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003"
)
product_asset: Asset = item.assets["product"]
dt = xr.open_datatree(
    product_asset.href, **product_asset.extra_fields["xarray:open_datatree_kwargs"]
)
ds = dt["/measurements"]
# Measurements DataArrays do not have (latitude, longitude) dimensions and
# instead use (rows, columns) dimensions to record data positions.
# Latitude and longitude are available as coordinates, and are functions of
# (rows, columns), but this configuration is not compatible with matplotlib.
# To plot measurements with a 2D chart we first must interpolate values to
# a 2D grid. For simplicity in this example we use unprojected latitude and
# longitude values rather than projecting to a more suitable projected
# spatial reference system.
latitudes_np = np.array(ds.latitude.values)
longitudes_np = np.array(ds.longitude.values)
lat_min, lat_max = np.nanmin(latitudes_np), np.nanmax(latitudes_np)
lon_min, lon_max = np.nanmin(longitudes_np), np.nanmax(longitudes_np)
grid_resolution = 0.01
lat_grid = np.arange(lat_min, lat_max + grid_resolution, grid_resolution)
lon_grid = np.arange(lon_min, lon_max + grid_resolution, grid_resolution)
lon_mesh, lat_mesh = np.meshgrid(lon_grid, lat_grid)
measurement_name = "gifapar"
latitude_dim_name = "latitude"
longitude_dim_name = "longitude"
gridded_interpolated_values = griddata(
    np.column_stack((latitudes_np.flatten(), longitudes_np.flatten())),
    np.array(ds[measurement_name].values).flatten(),
    (lat_mesh, lon_mesh),
    method="linear",
)
gridded_dataarray = xr.Dataset(
    data_vars={
        measurement_name: (
            [latitude_dim_name, longitude_dim_name],
            gridded_interpolated_values,
        )
    },
    coords={latitude_dim_name: lat_grid, longitude_dim_name: lon_grid},
)[measurement_name]

gridded_dataarray.plot(x=longitude_dim_name, y=latitude_dim_name)
plt.show()
"""
