"""The SAFE replica: token flow, catalogue, redirect, download, archive contents and cache.

The archive tests build a small archive (``SMALL`` bytes instead of the seed's 170 MB) in a
temporary cache: the same members, manifest and real TCI image, with less filler, so they run
in seconds. The chapter's own download function is taken from ``book/06_safe_vs_zarr.md`` and
run against a server that breaks the connection half-way.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import io
import logging
import shutil
import socket
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from aiohttp import web
from PIL import Image
from pystac_client import Client

from helpers.errors import InterruptedDownloadError
from helpers.sample_service import safe, settings
from helpers.sample_service.catalog import get_product
from helpers.sample_service.safe_archive import TCI_60M, SafeArchive

SMALL = 12_000_000
CHAPTER = Path(__file__).resolve().parents[2] / "book" / "06_safe_vs_zarr.md"
TCI_XPATH = f".//dataObject[@ID='{TCI_60M}']/byteStream/fileLocation"
GOOD_FORM = {
    "client_id": "cdse-public",
    "username": settings.SAMPLE_USERNAME,
    "password": settings.SAMPLE_PASSWORD,
    "grant_type": "password",
}


# --- a private server running one aiohttp application ---------------------------------------------


class _Server:
    """An aiohttp application on a free loopback port, in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._started = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self._runner.setup())
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # a free port, chosen by the OS
        self.port = sock.getsockname()[1]
        self.loop.run_until_complete(web.SockSite(self._runner, sock).start())
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    def __enter__(self) -> _Server:
        self._thread.start()
        assert self._started.wait(30), "test server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[SafeArchive, tuple]:
    """One small archive built for the whole module, and its values and rendered members."""
    archive = SafeArchive(
        get_product(settings.SAFE_PRODUCT_ID),
        tmp_path_factory.mktemp("reference"),
        target_bytes=SMALL,
    )
    rendered = archive._rendered()  # kept: rebuilds in the cache tests reuse it
    archive._rendered = lambda: rendered
    archive.ensure()
    return archive, rendered


def _copy_cache(archive: SafeArchive, directory: Path) -> None:
    shutil.copy2(archive.path, directory / archive.path.name)


@pytest.fixture(scope="module")
def safe_cache(
    tmp_path_factory: pytest.TempPathFactory, reference: tuple[SafeArchive, tuple]
) -> Path:
    """The server's cache, holding the reference archive (the server verifies, not rebuilds)."""
    directory = tmp_path_factory.mktemp("safe-cache")
    _copy_cache(reference[0], directory)
    return directory


@pytest.fixture(scope="module")
def safe_url(safe_cache: Path) -> Iterator[str]:
    """A server with the SAFE routes only, serving the small archive from a private cache."""
    app = web.Application()
    safe.setup(app, cache_dir=safe_cache, target_bytes=SMALL)
    with _Server(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def token(safe_url: str) -> str:
    response = requests.post(safe_url + settings.TOKEN_PATH.lstrip("/"), data=GOOD_FORM, timeout=30)
    assert response.status_code == 200
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def archive(safe_url: str, token: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small archive as a reader downloads it: redirect, then the authenticated download."""
    href = f"{safe_url}safe-stac/odata/v1/Products({safe.PRODUCT_UUID})/$value"
    location = requests.get(href, allow_redirects=False, timeout=30).headers["Location"]
    response = requests.get(location, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert response.status_code == 200
    path = tmp_path_factory.mktemp("download") / "product.zip"
    path.write_bytes(response.content)
    return path


# --- token ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {k: v for k, v in GOOD_FORM.items() if k not in ("username", "password")},
            401,
            "invalid_grant",
        ),
        ({**GOOD_FORM, "password": "wrong"}, 401, "invalid_grant"),
        ({**GOOD_FORM, "username": "someone-else"}, 401, "invalid_grant"),
        ({**GOOD_FORM, "client_id": "another-client"}, 401, "invalid_client"),
        ({k: v for k, v in GOOD_FORM.items() if k != "grant_type"}, 400, "invalid_request"),
        ({**GOOD_FORM, "grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ],
    ids=["no-credentials", "wrong-password", "wrong-user", "wrong-client", "no-grant", "bad-grant"],
)
def test_token_refused_without_the_sample_credentials(
    safe_url: str, form: dict, status: int, error: str
) -> None:
    response = requests.post(safe_url + settings.TOKEN_PATH.lstrip("/"), data=form, timeout=30)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert "access_token" not in body


def test_token_issued_for_the_sample_credentials(token: str, safe_url: str) -> None:
    response = requests.post(safe_url + settings.TOKEN_PATH.lstrip("/"), data=GOOD_FORM, timeout=30)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == safe.TOKEN_LIFETIME
    assert body["access_token"] != token  # every request gets a token of its own


# --- catalogue and redirect -----------------------------------------------------------------------


def test_pystac_client_finds_the_safe_item(safe_url: str) -> None:
    client = Client.open(safe_url + "safe-stac/")
    collection = client.get_collection(collection_id="SENTINEL-2")
    item = collection.get_item(id=settings.SAFE_ITEM_ID)
    assert item is not None
    assert item.id == "S2A_MSIL2A_20250605T104701_N0511_R051_T35WMU_20250605T125416.SAFE"
    product = item.assets["PRODUCT"]
    assert product.href == f"{safe_url}safe-stac/odata/v1/Products({safe.PRODUCT_UUID})/$value"
    assert collection.get_item(id="S2A_MSIL2A_NOT_A_PRODUCT.SAFE") is None
    assert client.get_collection(collection_id="SENTINEL-1") is None
    found = list(client.search(ids=[settings.SAFE_ITEM_ID], collections=["SENTINEL-2"]).items())
    assert [i.id for i in found] == [settings.SAFE_ITEM_ID]


def test_quicklook_asset_is_a_jpeg_of_the_scene(safe_url: str) -> None:
    item = (
        Client.open(safe_url + "safe-stac/")
        .get_collection("SENTINEL-2")
        .get_item(settings.SAFE_ITEM_ID)
    )
    response = requests.get(item.assets["QUICKLOOK"].href, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size, image.mode) == ("JPEG", (343, 343), "RGB")


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [("GET", {"params": {"query": "{}"}}), ("POST", {"data": b"{not json"})],
)
def test_search_rejects_what_it_cannot_answer(safe_url: str, method: str, kwargs: dict) -> None:
    response = requests.request(method, safe_url + "safe-stac/search", timeout=30, **kwargs)
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_search_takes_item_searchs_parameters(safe_url: str) -> None:
    """The replica declares item search, so bbox, datetime and intersects work (issue 16)."""
    client = Client.open(safe_url + "safe-stac/")
    item = client.get_collection("SENTINEL-2").get_item(settings.SAFE_ITEM_ID)
    west, south, east, north = item.bbox
    day = item.datetime.date().isoformat()

    def found(**kwargs: object) -> list[str]:
        return [i.id for i in client.search(collections=["SENTINEL-2"], **kwargs).items()]

    assert settings.SAFE_ITEM_ID in found(bbox=[west, south, east, north], datetime=day)
    assert settings.SAFE_ITEM_ID in found(intersects=item.geometry)
    assert found(bbox=[west - 20, south - 20, west - 19, south - 19]) == []
    assert settings.SAFE_ITEM_ID not in found(datetime="2015-07-01/2015-07-31")


def test_product_href_redirects_to_the_download_location(safe_url: str) -> None:
    href = f"{safe_url}safe-stac/odata/v1/Products({safe.PRODUCT_UUID})/$value"
    response = requests.get(href, allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert (
        response.headers["Location"] == f"{safe_url}odata/v1/Products({safe.PRODUCT_UUID})/$value"
    )


def test_download_needs_the_token(safe_url: str, token: str) -> None:
    href = f"{safe_url}safe-stac/odata/v1/Products({safe.PRODUCT_UUID})/$value"
    followed = requests.get(href, timeout=30)  # following the redirect without a token
    assert followed.status_code == 401
    assert followed.headers["WWW-Authenticate"] == "Bearer"
    location = f"{safe_url}odata/v1/Products({safe.PRODUCT_UUID})/$value"
    forged = requests.get(location, headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert forged.status_code == 401
    basic = requests.get(location, headers={"Authorization": f"Basic {token}"}, timeout=30)
    assert basic.status_code == 401
    head = requests.head(location, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert head.status_code == 200
    assert head.headers["Content-Type"] == "application/zip"
    assert int(head.headers["Content-Length"]) > 1_000_000


def test_the_service_app_has_the_safe_routes(sample_service_url: str) -> None:
    """``app.build_app`` wires this module in: token, catalogue and redirect answer there too."""
    refused = requests.post(
        sample_service_url + settings.TOKEN_PATH.lstrip("/"),
        data={"grant_type": "password"},
        timeout=30,
    )
    assert refused.status_code == 401
    landing = requests.get(sample_service_url + "safe-stac/", timeout=30).json()
    assert landing["type"] == "Catalog"
    href = f"{sample_service_url}safe-stac/odata/v1/Products({safe.PRODUCT_UUID})/$value"
    assert requests.get(href, allow_redirects=False, timeout=30).status_code == 302


# --- archive contents -----------------------------------------------------------------------------


def test_download_is_the_cached_archive(archive: Path, safe_cache: Path) -> None:
    cached = SafeArchive(
        get_product(settings.SAFE_PRODUCT_ID), safe_cache, target_bytes=SMALL
    ).ensure()
    assert cached.path.parent == safe_cache and cached.offset > 0  # the cache's entry format
    assert archive.read_bytes() == cached.read()
    assert abs(archive.stat().st_size - SMALL) < 0.02 * SMALL  # the coverage fraction was solved


def test_manifest_lists_every_member_at_its_size(archive: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.testzip() is None  # every member's CRC checks out
        top = f"{settings.SAFE_ITEM_ID}/"
        members = {i.filename[len(top) :]: i for i in zipped.infolist()}
        assert all(i.filename.startswith(top) for i in zipped.infolist())
        root = ET.fromstring(zipped.read(top + "manifest.safe"))
        objects = root.findall(".//dataObject")
        assert len(objects) == 86  # as many as the real L2A manifest the template comes from
        listed = set()
        for obj in objects:
            stream = obj.find("byteStream")
            href = stream.find("fileLocation").get("href")
            assert href.startswith("./")
            path = href[2:]
            listed.add(path)
            assert path in members, f"{obj.get('ID')}: {path} missing from the zip"
            assert members[path].file_size == int(stream.get("size"))
            digest = hashlib.sha3_256(zipped.read(top + path)).hexdigest()
            assert stream.find("checksum").text == digest
        unlisted = set(members) - listed
        assert unlisted == {"manifest.safe", f"{settings.SAFE_PRODUCT_ID}-ql.jpg"}
        bands = {p.rsplit("_", 2)[-2] for p in listed if "/IMG_DATA/R60m/" in p}
        assert bands == {"AOT", "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B09", "B11",
                         "B12", "B8A", "SCL", "TCI", "WVP"}  # fmt: skip


def test_seed_xpath_finds_the_tci_and_it_decodes_to_the_scene(archive: Path) -> None:
    from helpers.sample_service.scenes import quicklook_tci

    with zipfile.ZipFile(archive) as zipped:
        top = f"{settings.SAFE_ITEM_ID}/"
        manifest = ET.fromstring(zipped.read(top + "manifest.safe"))
        location = manifest.find(TCI_XPATH)
        assert location is not None
        href = location.get("href")
        assert href.endswith("/IMG_DATA/R60m/T35WMU_20250605T104701_TCI_60m.jp2")
        info = zipped.getinfo(top + href[2:])
        assert info.compress_type == zipfile.ZIP_STORED
        image = Image.open(io.BytesIO(zipped.read(info)))
        assert image.format == "JPEG2000"
        pixels = np.asarray(image)
    expected = np.moveaxis(quicklook_tci(get_product(settings.SAFE_PRODUCT_ID), 60), 0, -1)
    assert pixels.shape == (1830, 1830, 3)
    np.testing.assert_array_equal(pixels, expected)  # lossless: the same picture as the Zarr


def test_metadata_documents_parse_and_name_the_product(archive: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        top = f"{settings.SAFE_ITEM_ID}/"
        for name in zipped.namelist():
            if name.endswith((".xml", ".safe", ".xsl")):
                ET.fromstring(zipped.read(name))  # well-formed
        product = ET.fromstring(zipped.read(top + "MTD_MSIL2A.xml"))
        assert product.findtext(".//PRODUCT_URI") == settings.SAFE_ITEM_ID
        assert product.findtext(".//PROCESSING_BASELINE") == "05.11"
        tile = next(n for n in zipped.namelist() if n.endswith("/MTD_TL.xml"))
        geocoding = ET.fromstring(zipped.read(tile))
        assert geocoding.findtext(".//HORIZONTAL_CS_CODE") == "EPSG:32635"


# --- cache ----------------------------------------------------------------------------------------


@pytest.fixture
def built(
    tmp_path: Path, reference: tuple[SafeArchive, tuple], monkeypatch: pytest.MonkeyPatch
) -> SafeArchive:
    """A private copy of the reference cache. Rebuilds reuse the reference's rendered members
    (rendering the scene and its JPEG 2000 takes seconds and is tested above)."""
    archive, rendered = reference
    _copy_cache(archive, tmp_path)
    monkeypatch.setattr(SafeArchive, "_rendered", lambda self: rendered)
    return SafeArchive(archive.record, tmp_path, target_bytes=SMALL)


@pytest.mark.parametrize("damage", ["flip-a-byte", "truncate", "break-the-header"])
def test_corrupt_cache_is_detected_and_rebuilt(
    built: SafeArchive, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = built.path.read_bytes()
    if damage == "flip-a-byte":
        data = bytearray(good)
        data[len(data) // 2] ^= 0xFF
        built.path.write_bytes(bytes(data))
    elif damage == "truncate":
        built.path.write_bytes(good[: len(good) // 3])
    else:
        built.path.write_bytes(b"NOTANENTRY" + good[10:])
    fresh = SafeArchive(built.record, built.cache_dir, target_bytes=SMALL)  # no memo of checks
    with caplog.at_level(logging.WARNING, logger="helpers.sample_service"):
        path = fresh.ensure().path
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Corrupt sample SAFE archive" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    assert path.read_bytes() == good  # deterministic rebuild
    assert not list(built.cache_dir.glob(".building-*")) + list(built.cache_dir.glob(".tmp-*"))


def test_intact_cache_is_reused(built: SafeArchive, caplog: pytest.LogCaptureFixture) -> None:
    before = built.path.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="helpers.sample_service"):
        SafeArchive(built.record, built.cache_dir, target_bytes=SMALL).ensure()
    assert built.path.stat().st_mtime_ns == before
    assert not caplog.records


# --- the chapter's download function --------------------------------------------------------------


def _chapter_function(name: str):
    """The function ``name`` as defined in the chapter's code cells, compiled on its own."""
    text = CHAPTER.read_text(encoding="utf-8")
    cells = text.split("```{code-cell} ipython3")[1:]
    for cell in cells:
        source = cell.split("\n```", 1)[0]
        source = "\n".join(line for line in source.splitlines() if not line.startswith(":"))
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace = {
                    "Path": Path,
                    "requests": requests,
                    "InterruptedDownloadError": InterruptedDownloadError,
                }
                from tqdm import tqdm

                namespace["tqdm"] = tqdm
                exec(compile(ast.Module([node], []), str(CHAPTER), "exec"), namespace)
                return namespace[name]
    raise AssertionError(f"no function {name} in {CHAPTER.name}")


@pytest.fixture(scope="module")
def flaky_url() -> Iterator[str]:
    """``/cut`` promises 4 MB and sends 1 MB before closing; ``/whole`` sends all 4 MB."""
    body = np.random.default_rng(0).bytes(4_000_000)

    async def whole(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/zip")

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/zip"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[:1_000_000])
        request.transport.close()  # the connection drops mid-download
        return response

    app = web.Application()
    app.router.add_get("/whole", whole)
    app.router.add_get("/cut", cut)
    with _Server(app) as server:
        yield server.url


def test_interrupted_download_leaves_no_file_to_trust(flaky_url: str, tmp_path: Path) -> None:
    download_archive = _chapter_function("download_archive")
    destination = tmp_path / "product.zip"
    with pytest.raises(InterruptedDownloadError) as caught:
        download_archive(requests.Session(), flaky_url + "cut", {}, destination)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # neither the archive nor a .part file
    received = download_archive(requests.Session(), flaky_url + "whole", {}, destination)
    assert received == 4_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["product.zip"]
    assert destination.stat().st_size == 4_000_000
