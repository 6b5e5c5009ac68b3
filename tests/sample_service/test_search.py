"""Search parameters: one parser for GET and POST, and a 400 naming anything unsupported."""

from __future__ import annotations

import pytest

from helpers.sample_service import safe, search, settings, stac_api
from helpers.sample_service.errors import StacApiError

ROOT = "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: stac_api.search_get(ROOT, {"colections": "sentinel-2-l2a"}), "colections"),
        (lambda: stac_api.search_post(ROOT, {"limit": 2, "max_items": 3}), "max_items"),
        (
            lambda: stac_api.collection_items(ROOT, "sentinel-2-l2a", {"ids": "a,b"}),
            "ids",
        ),
        (lambda: stac_api.search_get(ROOT, {"sortby": "id"}, safe.SAFE_CATALOGUE), "sortby"),
        (lambda: stac_api.search_post(ROOT, {"query": {}}, safe.SAFE_CATALOGUE), "query"),
    ],
)
def test_an_unsupported_parameter_is_a_400_naming_it(call, name: str) -> None:
    with pytest.raises(StacApiError) as caught:
        call()
    assert caught.value.status == 400
    assert caught.value.description.startswith(f"Unsupported parameter '{name}'")
    assert "\n" not in caught.value.description


def test_get_and_post_spellings_parse_to_the_same_search() -> None:
    allowed = stac_api.SEARCH_PARAMETERS
    query = search.from_query(
        {
            "collections": "a,b",
            "bbox": "0,0,1,1",
            "datetime": "2025-06-01T00:00:00Z/..",
            "limit": "5",
            "sortby": "-properties.eo:cloud_cover",
        },
        allowed,
        "/search",
    )
    body = search.from_body(
        {
            "collections": ["a", "b"],
            "bbox": [0, 0, 1, 1],
            "datetime": "2025-06-01T00:00:00Z/..",
            "limit": 5,
            "sortby": [{"field": "properties.eo:cloud_cover", "direction": "desc"}],
        },
        allowed,
        "/search",
    )
    assert (query.collections, query.interval, query.limit, query.sortby) == (
        body.collections,
        body.interval,
        body.limit,
        body.sortby,
    )
    assert query.interval[1] is None and query.sortby == [("eo:cloud_cover", True)]


def test_both_catalogues_page_and_answer_alike() -> None:
    eopf = stac_api.search_post(ROOT, {"limit": 1})
    safe_page = stac_api.search_post(ROOT + "/safe-stac", {"limit": 1}, safe.SAFE_CATALOGUE)
    for page in (eopf, safe_page):
        assert set(page) == {
            "type",
            "links",
            "features",
            "numberMatched",
            "numberReturned",
            "context",
        }
        assert page["numberReturned"] == 1
    assert safe_page["features"][0]["id"].endswith(".SAFE")
    by_id = stac_api.search_post(
        ROOT + "/safe-stac", {"ids": [settings.SAFE_ITEM_ID]}, safe.SAFE_CATALOGUE
    )
    assert [f["id"] for f in by_id["features"]] == [settings.SAFE_ITEM_ID]
    (following,) = [link for link in eopf["links"] if link["rel"] == "next"]
    second = stac_api.search_post(ROOT, following["body"])
    assert second["features"][0]["id"] != eopf["features"][0]["id"]
    with pytest.raises(StacApiError, match="Invalid paging token"):
        stac_api.search_post(ROOT + "/safe-stac", following["body"], safe.SAFE_CATALOGUE)


def test_a_deeply_parenthesised_text_filter_is_a_400_not_a_crash() -> None:
    # cql2's text parser recurses per parenthesis: a few thousand overflowed the native stack
    # and killed the whole service (a segmentation fault) before the depth was checked.
    deep = "(" * 3000 + "id = 'a'" + ")" * 3000
    with pytest.raises(StacApiError) as caught:
        stac_api.search_get(ROOT, {"filter": deep})
    assert caught.value.status == 400
