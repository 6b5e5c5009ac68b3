"""Acceptance: the tutorial's code, with only the STAC root URL changed, runs on the sample service
and prints what the tutorial's comments show (names, shapes, chunk sizes, EPSG, coordinates).

Only pixel statistics may differ: for the scene mean the test checks the line's text and that the
value is a plausible reflectance, not the published number. The mission blocks print nothing;
they must run to the end (plots are drawn on matplotlib's non-interactive backend).

One change besides the root URL, in the Sentinel-3 block only, and the same one the Sentinel-3
chapter makes and explains: the swath is thinned to every 4th row and column before gridding.
At full size (4091 x 4865 points) `scipy.interpolate.griddata` triangulates 19.9 million points
and then, for every grid cell inside the swath's bounding box but outside its tilted outline,
searches the triangles one by one: measured here, a 90,000-point swath already needs 9 s for
20,000 query cells, and the full block did not finish in 15 minutes while taking over 5 GB. The
thinned block runs in well under a minute and exercises every line of the tutorial's code.
"""

from __future__ import annotations

import contextlib
import io
import re

import matplotlib
import pytest

from tests.seed_tutorial import BLOCKS, LIVE_ROOT_URL

matplotlib.use("Agg")

# What the tutorial's comments say each block prints. A tuple is the exact, complete output; a
# list is an exact prefix (the tutorial elides the rest with "# ...").
EXPECTED_ASSETS = [
    "Fetched collection/item sentinel-2-l2a/"
    "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252",
    "Zarr asset / (EOPF Product) has roles ['data', 'metadata']",
    "Zarr asset /conditions/mask/l2a_classification/r20m/scl (Scene classification map (SCL))"
    " has roles ['data']",
    "Zarr asset /measurements/reflectance/r10m (Surface Reflectance - 10m)"
    " has roles ['data', 'reflectance', 'dataset']",
]
EXPECTED_GROUPS = [
    "DataTree group /",
    "DataTree group /conditions",
    "DataTree group /conditions/geometry",
]
EXPECTED_CHUNKS = (
    "Chunk size(s) for 10m resolution dataset: {1830}",
    "Chunk size(s) for 20m resolution dataset: {915}",
    "Chunk size(s) for 60m resolution dataset: {305}",
)
EXPECTED_VARIABLES = tuple(
    f"SR_10m has variable {band} (digital_counts): "
    f"BOA reflectance from MSI acquisition at spectral band {band} {nm} nm"
    for band, nm in (("b02", "492.3"), ("b03", "559.0"), ("b04", "665.0"), ("b08", "833.0"))
)
EXPECTED_COORDINATES = (
    "All spatial data for this STAC item is in EPSG:32626 https://epsg.io/32626",
    "Dimension y has coordinates <xarray.DataArray 'y' (y: 10980)> Size: 88kB",
    "array([4600015, 4600005, 4599995, ..., 4490245, 4490235, 4490225],",
    "      shape=(10980,))",
    "Coordinates:",
    "  * y        (y) int64 88kB 4600015 4600005 4599995 ... 4490245 4490235 4490225",
    "Dimension x has coordinates <xarray.DataArray 'x' (x: 10980)> Size: 88kB",
    "array([399965, 399975, 399985, ..., 509735, 509745, 509755], shape=(10980,))",
    "Coordinates:",
    "  * x        (x) int64 88kB 399965 399975 399985 399995 ... 509735 509745 509755",
)
MEAN_LINE = re.compile(
    r"Mean BOA reflectance from MSI acquisition at spectral band b08 833\.0 nm for scene: "
    r"(?P<value>-?\d+\.\d+(?:e-?\d+)?)"
)


@pytest.fixture(scope="module")
def namespace(sample_service_url: str) -> dict:
    """One namespace shared by the blocks, as a reader running them top to bottom has."""
    return {"__name__": "seed_tutorial"}


S3_SELECTION = 'ds = dt["/measurements"]\n'
S3_THINNED = (
    'ds = dt["/measurements"].to_dataset()'
    ".isel(rows=slice(None, None, 4), columns=slice(None, None, 4))\n"
)


def run_block(name: str, namespace: dict, root_url: str) -> list[str]:
    """Execute one tutorial block with only its root URL replaced; return the printed lines."""
    source = BLOCKS[name]
    assert source.count(LIVE_ROOT_URL) <= 1
    source = source.replace(LIVE_ROOT_URL, root_url)
    if name == "sentinel-3 gifapar":  # the one other change: see the module docstring
        assert source.count(S3_SELECTION) == 1
        source = source.replace(S3_SELECTION, S3_THINNED)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, f"<tutorial: {name}>", "exec"), namespace)
    return printed.getvalue().splitlines()


def test_only_the_root_url_is_changed() -> None:
    blocks_with_url = [name for name, source in BLOCKS.items() if LIVE_ROOT_URL in source]
    assert blocks_with_url == [
        "find item and assets",
        "sentinel-1 wind direction",
        "sentinel-2 tci",
        "sentinel-3 gifapar",
    ]


def test_sentinel_2_walkthrough_prints_what_the_tutorial_shows(
    namespace: dict, sample_service_url: str
) -> None:
    assert run_block("imports", namespace, sample_service_url) == []

    lines = run_block("find item and assets", namespace, sample_service_url)
    assert lines[: len(EXPECTED_ASSETS)] == EXPECTED_ASSETS
    assert lines[-1] == "Asset EOPF Product is the top-level Zarr group asset"
    assert all(line.startswith("Zarr asset /") for line in lines[1:-1])

    lines = run_block("open datatree", namespace, sample_service_url)
    assert lines[: len(EXPECTED_GROUPS)] == EXPECTED_GROUPS
    assert len(lines) == len(namespace["dt"].groups)

    assert tuple(run_block("chunk sizes", namespace, sample_service_url)) == EXPECTED_CHUNKS
    assert tuple(run_block("variables", namespace, sample_service_url)) == EXPECTED_VARIABLES
    lines = run_block("dimensions and coordinates", namespace, sample_service_url)
    assert tuple(lines) == EXPECTED_COORDINATES

    lines = run_block("data statistics", namespace, sample_service_url)
    assert len(lines) == 1
    match = MEAN_LINE.fullmatch(lines[0])
    assert match, lines[0]
    # A pixel statistic: synthetic here, so only its plausibility is checked.
    assert 0.0 < float(match["value"]) < 1.0


@pytest.mark.parametrize(
    ("block", "expected_name"),
    [
        ("sentinel-1 wind direction", "wind_direction"),
        ("sentinel-2 tci", "tci"),
        ("sentinel-3 gifapar", "gifapar"),
    ],
)
def test_mission_blocks_run_to_the_end(
    block: str, expected_name: str, sample_service_url: str
) -> None:
    import matplotlib.pyplot as plt

    namespace: dict = {"__name__": "seed_tutorial"}
    assert run_block(block, namespace, sample_service_url) == []
    plotted = namespace.get("gridded_dataarray", namespace.get("da"))
    assert plotted is not None and plotted.name == expected_name
    # The plot holds real values, not an empty grid.
    assert int(plotted.notnull().sum()) > 0
    plt.close("all")
