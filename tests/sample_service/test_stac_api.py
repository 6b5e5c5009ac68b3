"""The sample service's STAC API, as pystac-client and a plain HTTP client see it.

What must hold: pystac-client opens it unchanged (collections, items, search by
bbox, intersects, datetime and ids, paging through next links by POST and GET);
every collection and item is valid STAC (checked against the core JSON schemas
that pystac ships, offline); items carry the live API's asset layout (keys,
titles, roles, media types, xarray kwargs, hrefs in the object-store layout);
unknown ids are 404 and bad parameters 400, never 500.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from typing import Any

import jsonschema
import pystac
import pytest
import referencing
import referencing.jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pystac.validation.local_validator import get_local_schema_cache
from pystac_client import Client

from helpers.sample_service import catalog, search, stac_api, stac_items, timefmt
from helpers.sample_service.settings import TUTORIAL_DATE

TUTORIAL_PRODUCTS = catalog.products_on(TUTORIAL_DATE)
"""The root serves the catalogue of the tutorial's date (test_dated_catalogue.py: the others)."""

S2_ITEM = "S2B_MSIL2A_20250522T125039_N0511_R095_T26TML_20250522T133252"
S2_ITEM_TCI = "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416"
OCN_ITEM = "S1A_IW_OCN__2SDV_20250604T193923_20250604T193948_059501_0762FA_C971"
LFR_ITEM = (
    "S3A_OL_2_LFR____20250605T102430_20250605T102730_20250605T122455_0179_126_336_2160_PS1_O_NR_003"
)
S2_ASSET_KEYS = {
    "SR_10m", "SR_20m", "SR_60m", "AOT_10m", "WVP_10m", "SCL_20m", "TCI_10m",
    "B01_20m", "B02_10m", "B03_10m", "B04_10m", "B05_20m", "B06_20m", "B07_20m",
    "B08_10m", "B8A_20m", "B09_60m", "B11_20m", "B12_20m", "product", "product_metadata",
}  # fmt: skip
NATIVE = {"chunks": {}, "engine": "eopf-zarr", "op_mode": "native"}
HREF_LAYOUT = re.compile(
    r"^http://127\.0\.0\.1:\d+/objects/(\d{6})-(s0[123][a-z0-9]+)/(\d{2})/products/cpm_v256/"
    r"(?P<id>[A-Z0-9_]+)\.zarr(?P<path>(/[A-Za-z0-9_.]+)*)$"
)


# --- helpers ------------------------------------------------------------------------


def http_json(url: str, body: Any = None, method: str | None = None) -> tuple[int, Any]:
    """Status and decoded JSON of one request (errors included), bypassing any proxy."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def client(sample_service_url: str) -> Client:
    return Client.open(sample_service_url)


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft7Validator]:
    """Core STAC 1.1.0 validators from pystac's bundled schemas (no network: no retrieval)."""
    cache = get_local_schema_cache()
    registry = referencing.Registry().with_resources(
        (uri, referencing.Resource.from_contents(schema, referencing.jsonschema.DRAFT7))
        for uri, schema in cache.items()
    )
    base = "https://schemas.stacspec.org/v1.1.0"
    return {
        kind: jsonschema.Draft7Validator(
            cache[f"{base}/{kind}-spec/json-schema/{kind}.json"], registry=registry
        )
        for kind in ("item", "collection", "catalog")
    }


def ids_of(search: Any) -> list[str]:
    return [i.id for i in search.items()]


def api_order(collection_id: str) -> list[str]:
    """Ids of a collection in the API's order: newest first, then by id descending (as pgstac)."""
    records = catalog.products_in(collection_id, TUTORIAL_DATE)
    return [r.id for r in sorted(records, key=lambda r: (r.start_datetime, r.id), reverse=True)]


# --- landing page and collections -----------------------------------------------------


def test_landing_page_declares_the_live_conformance_and_links(sample_service_url: str) -> None:
    status, landing = http_json(sample_service_url)
    assert status == 200
    assert landing["type"] == "Catalog"
    assert landing["id"] == "eopf-sample-service-stac-api"
    for needed in ("core", "collections", "ogcapi-features", "item-search"):
        assert f"https://api.stacspec.org/v1.0.0/{needed}" in landing["conformsTo"]
    rels = [(link["rel"], link.get("method")) for link in landing["links"]]
    for rel in ("self", "root", "data", "conformance"):
        assert (rel, None) in rels
    assert ("search", "GET") in rels and ("search", "POST") in rels
    children = [
        link["href"].rsplit("/", 1)[1] for link in landing["links"] if link["rel"] == "child"
    ]
    assert children == stac_items.collection_ids()
    assert len(children) == 11
    status, conformance = http_json(sample_service_url + "conformance")
    assert conformance["conformsTo"] == landing["conformsTo"]


def test_every_collection_is_valid_stac_with_licence_and_extent(
    sample_service_url: str, validators: dict[str, jsonschema.Draft7Validator]
) -> None:
    status, page = http_json(sample_service_url + "collections")
    assert status == 200
    assert page["numberMatched"] == page["numberReturned"] == 11
    for data in page["collections"]:
        assert list(validators["collection"].iter_errors(data)) == [], data["id"]
        collection = pystac.Collection.from_dict(data)
        assert collection.license == "proprietary"
        licence = collection.get_single_link("license")
        assert licence is not None and licence.href.endswith("Sentinel_Data_Legal_Notice")
        assert [p.name for p in collection.providers or []] == [
            "European Commission",
            "ESA",
            "EOPF Sentinel Zarr Samples Service",
        ]
        start, end = collection.extent.temporal.intervals[0]
        assert start is not None and start.year in (2014, 2015, 2016) and end is None
        assert collection.title and len(collection.description) > 40


def test_client_gets_the_tutorial_collections_and_items(client: Client) -> None:
    expected = {
        "sentinel-2-l2a": ("Sentinel-2 Level-2A", [S2_ITEM, S2_ITEM_TCI]),
        "sentinel-1-l2-ocn": ("Sentinel-1 Level-2 OCN", [OCN_ITEM]),
        "sentinel-3-olci-l2-lfr": ("Sentinel-3 OLCI Level-2 LFR", [LFR_ITEM]),
    }
    for collection_id, (title, item_ids) in expected.items():
        collection = client.get_collection(collection_id)
        assert collection is not None and collection.title == title
        for item_id in item_ids:
            item = collection.get_item(item_id)
            assert item is not None and item.id == item_id and item.collection_id == collection_id


def test_every_item_is_valid_stac_and_points_at_this_service(
    sample_service_url: str, validators: dict[str, jsonschema.Draft7Validator]
) -> None:
    for record in TUTORIAL_PRODUCTS:
        status, data = http_json(
            f"{sample_service_url}collections/{record.collection}/items/{record.id}"
        )
        assert status == 200
        assert list(validators["item"].iter_errors(data)) == [], record.id
        item = pystac.Item.from_dict(data)
        assert item.id == record.id
        assert item.get_self_href() == (
            f"{sample_service_url}collections/{record.collection}/items/{record.id}"
        )
        bbox, geometry = catalog.footprint(record)
        assert item.bbox == bbox and item.geometry == geometry
        assert item.properties["start_datetime"] == record.start_datetime
        assert item.properties["platform"] == record.platform
        assert item.properties["sat:relative_orbit"] == record.relative_orbit
        for asset in item.assets.values():
            match = HREF_LAYOUT.match(asset.href)
            assert match is not None, asset.href
            assert match["id"] == record.id
            year_month, product_type, day = match.group(1, 2, 3)
            assert record.start_datetime.startswith(f"{year_month[:4]}-{year_month[4:]}-{day}")
            assert product_type == record.product_type.lower()


def test_s2_assets_are_those_the_tutorial_prints(client: Client) -> None:
    item = client.get_collection("sentinel-2-l2a").get_item(S2_ITEM)
    assert set(item.assets) == S2_ASSET_KEYS
    # The printed asset lines themselves: tests/test_seed_acceptance.py runs the tutorial's loop.
    product = item.assets["product"]
    assert product.extra_fields["xarray:open_datatree_kwargs"] == NATIVE
    assert product.media_type == "application/vnd+zarr"
    metadata = item.assets["product_metadata"]
    assert metadata.href == product.href + "/.zmetadata"
    assert metadata.media_type == "application/json" and metadata.roles == ["metadata"]
    for key in ("SR_10m", "SR_20m", "SR_60m"):
        assert item.assets[key].extra_fields["xarray:open_dataset_kwargs"] == NATIVE
    scl = item.assets["SCL_20m"].extra_fields["alternate"]["xarray"]
    assert scl["href"] == product.href + "/conditions/mask/l2a_classification/r20m"
    assert scl["xarray:open_dataset_kwargs"] == NATIVE
    # Band descriptions follow the platform (S2B here), as on the live items.
    assert item.assets["B08_10m"].description.endswith("b08 833.0 nm")
    assert item.properties["proj:code"] == "EPSG:32626"
    assert item.assets["B08_10m"].extra_fields["proj:shape"] == [10980, 10980]
    assert item.assets["B09_60m"].extra_fields["proj:transform"][:3] == [60.0, 0.0, 399960.0]


def test_ocn_and_lfr_assets_follow_the_live_layout(client: Client) -> None:
    ocn = client.get_collection("sentinel-1-l2-ocn").get_item(OCN_ITEM)
    assert list(ocn.assets) == ["osw", "owi", "rvl", "product", "product_metadata"]
    assert ocn.assets["owi"].title == "Ocean Wind field"
    assert ocn.assets["owi"].href.endswith(
        ".zarr/owi/S01SIWOCN_20250604T193923_0025_A340_C971_0762FA_VV/measurements"
    )
    assert ocn.assets["owi"].extra_fields["xarray:open_dataset_kwargs"] == NATIVE
    assert ocn.bbox == [-25.77445, 30.25712, -22.82115, 32.16941]
    lfr = client.get_collection("sentinel-3-olci-l2-lfr").get_item(LFR_ITEM)
    assert list(lfr.assets) == [
        "iwv", "lagp", "lqsf", "otci", "rc681", "rc865", "gifapar", "product", "product_metadata",
    ]  # fmt: skip
    assert lfr.assets["lagp"].href.endswith(".zarr/measurements")
    assert lfr.assets["gifapar"].title == "Green Instantaneous FAPAR (GIFAPAR)"
    assert lfr.assets["product"].extra_fields["xarray:open_datatree_kwargs"] == NATIVE


# --- search -------------------------------------------------------------------------


def test_search_by_bbox_finds_the_tiles_it_touches(client: Client) -> None:
    # A box inside tile T26TML (Azores), away from its neighbour T26TNL.
    found = ids_of(client.search(collections=["sentinel-2-l2a"], bbox=[-28.0, 40.7, -27.6, 41.2]))
    assert sorted(found) == sorted(
        r.id for r in catalog.products_in("sentinel-2-l2a", TUTORIAL_DATE) if r.mgrs_tile == "26TML"
    )
    assert ids_of(client.search(bbox=[10.0, 10.0, 11.0, 11.0])) == []


def test_search_by_datetime_instant_closed_and_open_ranges(client: Client) -> None:
    def dates(**kwargs: Any) -> set[str]:
        # The tutorial's tiles only: the season of T32UNE has an acquisition every few days.
        found = client.search(query={"grid:code": {"neq": "MGRS-32UNE"}}, **kwargs).items()
        return {i.properties["start_datetime"][:10] for i in found}

    assert dates(collections=["sentinel-2-l2a"], datetime="2025-05-22T12:50:39.024Z") == {
        "2025-05-22"
    }
    assert dates(collections=["sentinel-2-l2a"], datetime="2025-05-20/2025-05-28") == {
        "2025-05-22",
        "2025-05-27",
    }
    assert dates(collections=["sentinel-2-l2a"], datetime="2025-06-06/..") == {"2025-06-10"}
    assert dates(collections=["sentinel-2-l2a"], datetime="../2025-05-18") == {"2025-05-17"}
    # An interval that only overlaps the sensing span of a swath still finds it.
    ocn = client.search(ids=[OCN_ITEM], datetime="2025-06-04T19:39:40Z/2025-06-04T20:00:00Z")
    assert ids_of(ocn) == [OCN_ITEM]


def test_search_by_ids_and_results_newest_first(client: Client) -> None:
    wanted = [S2_ITEM, OCN_ITEM, LFR_ITEM]
    found = ids_of(client.search(ids=wanted))
    assert sorted(found) == sorted(wanted)
    times = [catalog.get_product(i).start_datetime for i in found]
    assert times == sorted(times, reverse=True)


def test_search_by_intersects_uses_the_real_footprint(client: Client) -> None:
    # The OCN swath is a tilted quadrilateral: this point lies inside its bbox but outside it.
    outside = {"type": "Point", "coordinates": [-25.6, 30.35]}
    inside = {"type": "Point", "coordinates": [-24.3, 31.2]}
    assert OCN_ITEM not in ids_of(
        client.search(collections=["sentinel-1-l2-ocn"], intersects=outside)
    )
    assert OCN_ITEM in ids_of(client.search(collections=["sentinel-1-l2-ocn"], intersects=inside))
    # A polygon whose hole covers the whole Azores tile does not meet it; without the hole it does.
    ring = [[-30, 39], [-25, 39], [-25, 43], [-30, 43], [-30, 39]]
    hole = [[-29, 40], [-26.5, 40], [-26.5, 42], [-29, 42], [-29, 40]]
    with_hole = {"type": "Polygon", "coordinates": [ring, hole]}
    without = {"type": "Polygon", "coordinates": [ring]}
    tml = {
        r.id for r in catalog.products_in("sentinel-2-l2a", TUTORIAL_DATE) if r.mgrs_tile == "26TML"
    }
    assert tml.isdisjoint(ids_of(client.search(intersects=with_hole)))
    assert tml <= set(ids_of(client.search(intersects=without)))
    # A query polygon inside the footprint (the footprint encloses the query) finds it too.
    small = [[-27.6, 41.0], [-27.5, 41.0], [-27.5, 41.1], [-27.6, 41.1], [-27.6, 41.0]]
    assert tml <= set(ids_of(client.search(intersects={"type": "Polygon", "coordinates": [small]})))
    # RFC 7946 allows a GeometryCollection of one member: it finds what its member finds.
    alone = {"type": "GeometryCollection", "geometries": [inside]}
    assert OCN_ITEM in ids_of(client.search(collections=["sentinel-1-l2-ocn"], intersects=alone))


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_paging_through_small_pages_returns_every_item_once(client: Client, method: str) -> None:
    search = client.search(limit=3, method=method)
    pages = list(search.pages())
    assert len(pages) == -(-len(TUTORIAL_PRODUCTS) // 3)
    assert all(len(page.items) <= 3 for page in pages)
    found = [item.id for page in pages for item in page.items]
    assert sorted(found) == sorted(r.id for r in TUTORIAL_PRODUCTS)
    assert search.matched() == len(TUTORIAL_PRODUCTS)


def test_collection_items_endpoint_pages_with_next_links(sample_service_url: str) -> None:
    url = f"{sample_service_url}collections/sentinel-2-l2a/items?limit=3"
    seen: list[str] = []
    while url:
        status, page = http_json(url)
        assert status == 200 and page["type"] == "FeatureCollection"
        seen += [feature["id"] for feature in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == api_order("sentinel-2-l2a")


def test_post_next_link_repeats_the_body_with_a_token(sample_service_url: str) -> None:
    body = {"collections": ["sentinel-2-l2a"], "limit": 2}
    status, page = http_json(sample_service_url + "search", body)
    assert status == 200 and page["numberReturned"] == 2
    # 8 products of the tutorial's tiles and 21 of the season of T32UNE.
    assert page["numberMatched"] == page["context"]["matched"] == 8 + 21
    (link,) = [link for link in page["links"] if link["rel"] == "next"]
    assert link["method"] == "POST"
    assert link["body"]["collections"] == ["sentinel-2-l2a"] and link["body"]["limit"] == 2
    assert link["body"]["token"] == f"next:sentinel-2-l2a:{page['features'][-1]['id']}"
    status, second = http_json(link["href"], link["body"])
    assert [f["id"] for f in second["features"]] == api_order("sentinel-2-l2a")[2:4]
    (previous,) = [link for link in second["links"] if link["rel"] == "previous"]
    status, back = http_json(previous["href"], previous["body"])
    assert [f["id"] for f in back["features"]] == [f["id"] for f in page["features"]]


def test_query_sortby_and_cql2_filter_on_cloud_cover(client: Client) -> None:
    s2 = catalog.products_in("sentinel-2-l2a", TUTORIAL_DATE)
    clear = {r.id for r in s2 if r.cloud_cover < 50}
    assert (
        set(
            ids_of(
                client.search(collections=["sentinel-2-l2a"], query={"eo:cloud_cover": {"lt": 50}})
            )
        )
        == clear
    )
    cql2 = {"op": "<", "args": [{"property": "eo:cloud_cover"}, 50]}
    assert set(ids_of(client.search(collections=["sentinel-2-l2a"], filter=cql2))) == clear
    ascending = ids_of(
        client.search(collections=["sentinel-2-l2a"], sortby="+properties.eo:cloud_cover")
    )
    assert ascending == [r.id for r in sorted(s2, key=lambda r: r.cloud_cover)]  # fmt: skip


# --- errors -------------------------------------------------------------------------


def test_unknown_collection_and_item_are_404_json(sample_service_url: str, client: Client) -> None:
    status, body = http_json(sample_service_url + "collections/sentinel-2-l3")
    assert status == 404
    assert body == {
        "code": "NotFoundError",
        "description": "Collection sentinel-2-l3 does not exist.",
    }
    status, body = http_json(sample_service_url + "collections/sentinel-2-l2a/items/S2X_NOPE")
    assert status == 404 and body["code"] == "NotFoundError"
    assert "S2X_NOPE" in body["description"] and "sentinel-2-l2a" in body["description"]
    # An item of another collection is not found under this one.
    status, _ = http_json(f"{sample_service_url}collections/sentinel-2-l2a/items/{OCN_ITEM}")
    assert status == 404
    # pystac-client turns these 404s into None (helpers.data_source.get_item raises instead).
    assert client.get_collection("sentinel-2-l3") is None
    assert client.get_collection("sentinel-2-l2a").get_item("S2X_NOPE") is None


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=0,10,1,5",
        "bbox=0,0,1,1&intersects=%7B%7D",
        "datetime=yesterday",
        "datetime=2025-06-01/2025-05-01",
        "datetime=../..",
        "limit=0",
        "limit=ten",
        "intersects=%7Bnot-json",
        'intersects={"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}',
        "token=next:sentinel-2-l2a:NOT_AN_ITEM",
        'query={"eo:cloud_cover":{"like":5}}',
        "filter-lang=cql2-text&filter=eo:cloud_cover<<5",
        "filter=eo:cloud_cover<5&filter-lang=cql-text",
        "filter-lang=cql2-text&filter=id%20LIKE%20%27S2%25%27",
    ],
)
def test_bad_search_parameters_are_400(sample_service_url: str, query: str) -> None:
    status, body = http_json(f"{sample_service_url}search?{query}")
    assert status == 400, body
    assert body["code"] == "BadRequest" and "\n" not in body["description"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        {"collections": "sentinel-2-l2a"},
        {"limit": "5"},
        {"limit": True},
        {"bbox": "0,0,1,1"},
        {"intersects": {"type": "Hexagon", "coordinates": []}},
        {"datetime": 20250522},
        {"sortby": [{"field": "datetime", "direction": "sideways"}]},
        {"filter": {"op": "like", "args": [{"property": "id"}, "S2%"]}},
    ],
)
def test_bad_search_bodies_are_400(sample_service_url: str, body: Any) -> None:
    status, answer = http_json(sample_service_url + "search", body)
    assert status == 400, answer
    assert answer["code"] == "BadRequest"


# Any JSON at all as a search body: an answer or a 400, never another exception (a 500).
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)
_search_fields = st.sampled_from(stac_api.SEARCH_PARAMETERS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_search_fields, _json_values, max_size=4))
def test_search_post_never_fails_unexpectedly(body: dict[str, Any]) -> None:
    try:
        answer = stac_api.search_post("http://127.0.0.1:1", body)
    except stac_api.StacApiError as error:
        assert error.status == 400
    else:
        assert answer["type"] == "FeatureCollection"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_search_fields, st.text(max_size=40), max_size=4))
def test_search_get_never_fails_unexpectedly(query: dict[str, str]) -> None:
    try:
        answer = stac_api.search_get("http://127.0.0.1:1", query)
    except stac_api.StacApiError as error:
        assert error.status == 400
    else:
        assert answer["type"] == "FeatureCollection"


# --- declared conformance classes work (issue 16) ----------------------------------------


def test_a_read_only_replica_declares_no_transaction_class() -> None:
    declared = stac_api.landing_page("http://127.0.0.1:1")["conformsTo"]
    assert not [c for c in declared if "transaction" in c]
    assert stac_api.conformance()["conformsTo"] == declared
    # The template still records the live page's classes (it is the live record).
    live = stac_items._stac_template("collections.json")["landing"]["conformsTo"]
    assert [c for c in live if "transaction" in c]


@pytest.mark.parametrize("limit", ["10001", "99999999999999999999"])
def test_a_limit_above_the_maximum_is_cropped_to_it(limit: str) -> None:
    params = search.from_query({"limit": limit}, stac_api.SEARCH_PARAMETERS, "/search")
    assert params.limit == search.MAX_LIMIT
    page = stac_api.search_get("http://127.0.0.1:1", {"limit": limit})
    assert page["numberReturned"] == len(TUTORIAL_PRODUCTS)
    posted = stac_api.search_post("http://127.0.0.1:1", {"limit": int(limit)})
    assert posted["numberReturned"] == len(TUTORIAL_PRODUCTS)
    assert not [link for link in posted["links"] if link["rel"] == "next"]


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2025-06-05T10:47:01Z", dt.datetime(2025, 6, 5, 10, 47, 1, tzinfo=dt.UTC)),
        ("2025-06-05t10:47:01z", dt.datetime(2025, 6, 5, 10, 47, 1, tzinfo=dt.UTC)),
        ("2025-06-05T12:47:01+02:00", dt.datetime(2025, 6, 5, 10, 47, 1, tzinfo=dt.UTC)),
    ],
)
def test_datetime_reads_rfc3339_in_either_case(value: str, instant: dt.datetime) -> None:
    params = search.from_query({"datetime": value}, stac_api.SEARCH_PARAMETERS, "/search")
    assert params.interval == (instant, instant)


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-05T10:47:01",
        "2025-06-05T10:47:01+0100",
        "2025-06-05T10:47:50.Z",
        "2025-06-05T10:47:01,5Z",
        "2025-06-05T00:00:00/2025-06-06T00:00:00Z",
        " 2025-06-05T10:47:01Z",
    ],
)
def test_datetime_outside_rfc3339_is_a_400_naming_it(value: str) -> None:
    for ask in (
        lambda: stac_api.search_get("http://127.0.0.1:1", {"datetime": value}),
        lambda: stac_api.search_post("http://127.0.0.1:1", {"datetime": value}),
    ):
        with pytest.raises(stac_api.StacApiError) as error:
            ask()
        assert error.value.status == 400
        assert "datetime" in error.value.body()["description"]


def test_a_date_alone_is_refused_as_the_live_stac_fastapi_does_with_the_day_to_ask() -> None:
    day = "2025-06-05"
    with pytest.raises(stac_api.StacApiError) as error:
        stac_api.search_get("http://127.0.0.1:1", {"datetime": day})
    hint = re.search(r"ask (\S+)\.$", error.value.body()["description"])
    assert hint is not None
    whole_day = stac_api.search_get("http://127.0.0.1:1", {"datetime": hint[1], "limit": "100"})
    expected = [
        r.id for r in TUTORIAL_PRODUCTS if day in (r.start_datetime[:10], r.end_datetime[:10])
    ]
    assert len(expected) >= 3
    assert sorted(f["id"] for f in whole_day["features"]) == sorted(expected)


@pytest.mark.parametrize("form", ["../{t}", "/{t}", "{t}/..", "{t}/"])
def test_open_intervals_keep_one_side(form: str) -> None:
    moment = "2025-06-05T00:00:00Z"
    found = stac_api.search_get(
        "http://127.0.0.1:1", {"datetime": form.format(t=moment), "limit": "100"}
    )
    cut = dt.datetime(2025, 6, 5, tzinfo=dt.UTC)
    before = form.startswith(("..", "/"))
    for feature in found["features"]:
        start = timefmt.parse(feature["properties"]["start_datetime"])
        end = timefmt.parse(feature["properties"]["end_datetime"])
        assert (start <= cut) if before else (end >= cut)
    assert found["features"]


def test_fields_is_neither_declared_nor_silently_ignored() -> None:
    declared = stac_api.landing_page("http://127.0.0.1:1")["conformsTo"]
    assert not [c for c in declared if c.endswith("#fields")]
    asks = [
        lambda: stac_api.search_get("http://127.0.0.1:1", {"fields": "id,-assets"}),
        lambda: stac_api.search_post("http://127.0.0.1:1", {"fields": {"include": ["id"]}}),
        lambda: stac_api.collection_items("http://127.0.0.1:1", "sentinel-2-l2a", {"fields": "id"}),
    ]
    for ask in asks:
        with pytest.raises(stac_api.StacApiError) as error:
            ask()
        assert error.value.status == 400
        assert "'fields'" in error.value.body()["description"]


def _cloud_cover(item_id: str) -> float:
    page = stac_api.search_get("http://127.0.0.1:1", {"ids": item_id})
    return page["features"][0]["properties"]["eo:cloud_cover"]


@pytest.mark.parametrize(
    "query",
    [
        {"filter": "eo:cloud_cover < 40 AND collection = 'sentinel-2-l2a'"},
        {"filter": "eo:cloud_cover<40 and collection='sentinel-2-l2a'", "filter-lang": "cql2-text"},
        {
            "filter": json.dumps(
                {
                    "op": "and",
                    "args": [
                        {"op": "<", "args": [{"property": "eo:cloud_cover"}, 40]},
                        {"op": "=", "args": [{"property": "collection"}, "sentinel-2-l2a"]},
                    ],
                }
            ),
            "filter-lang": "cql2-json",
        },
    ],
)
def test_cql2_text_is_the_get_default_and_agrees_with_cql2_json(query: dict[str, str]) -> None:
    found = stac_api.search_get("http://127.0.0.1:1", {**query, "limit": "1000"})["features"]
    expected = {
        f["id"]
        for f in stac_api.search_get(
            "http://127.0.0.1:1", {"collections": "sentinel-2-l2a", "limit": "1000"}
        )["features"]
        if f["properties"]["eo:cloud_cover"] < 40
    }
    assert expected and {f["id"] for f in found} == expected


def test_cql2_text_in_a_post_body_and_through_pystac_client_get(sample_service_url: str) -> None:
    text = "eo:cloud_cover >= 40 OR eo:cloud_cover IS NULL"
    body = {"filter": text, "filter-lang": "cql2-text", "limit": 1000}
    posted = stac_api.search_post("http://127.0.0.1:1", body)["features"]
    assert posted
    assert all(
        f["properties"].get("eo:cloud_cover") is None or f["properties"]["eo:cloud_cover"] >= 40
        for f in posted
    )
    client = Client.open(sample_service_url)
    dict_filter = {"op": ">=", "args": [{"property": "eo:cloud_cover"}, 40]}
    got = client.search(filter=dict_filter, method="GET", max_items=1000)
    assert "filter-lang=cql2-text" in got.url_with_parameters()
    assert {i.id for i in got.items()} == {
        f["id"] for f in posted if f["properties"].get("eo:cloud_cover") is not None
    }


def test_service_desc_is_an_openapi_document_of_the_routes_really_served(
    sample_service_url: str,
) -> None:
    from aiohttp import web

    from helpers.sample_service import stac_routes

    _, landing = http_json(sample_service_url)
    links = {link["rel"]: link for link in landing["links"]}
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    with urllib.request.urlopen(links["service-desc"]["href"]) as answer:
        assert answer.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
        doc = json.load(answer)
    assert doc["openapi"].startswith("3.0")
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    app = web.Application()
    stac_routes.add_routes(app, "", stac_api.EOPF)
    served = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource}
    assert described == {(method, path) for method, path in served if method != "HEAD"}
    search_params = {p["name"] for p in doc["paths"]["/search"]["get"]["parameters"]}
    assert search_params == set(stac_api.SEARCH_PARAMETERS)
    # Every described operation is answered (not 404/405) with the media type it states.
    values = {"collection_id": "sentinel-2-l2a", "item_id": S2_ITEM}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            url = doc["servers"][0]["url"] + path.format(**values)
            data = b"{}" if method == "post" else None
            request = urllib.request.Request(url, data=data, method=method.upper())
            request.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(request) as answer:
                assert answer.status == 200, (method, path)
                media = next(iter(op["responses"]["200"]["content"]))
                assert answer.headers["Content-Type"].split(";")[0] == media.split(";")[0]
    with urllib.request.urlopen(links["service-doc"]["href"]) as answer:
        page = answer.read().decode()
    assert answer.headers["Content-Type"].startswith("text/html")
    assert all(f"<code>{path}</code>" in page for path in doc["paths"])
