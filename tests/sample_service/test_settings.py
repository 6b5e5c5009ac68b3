"""One name per setting: the port, the idle time and the cache folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.sample_service import settings
from helpers.sample_service.errors import EOPFBookError


def test_port_comes_from_eopf_sample_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EOPF_SAMPLE_PORT", raising=False)
    monkeypatch.setenv("PORT", "9999")  # no longer read: one name per setting
    assert settings.port() == 8765
    monkeypatch.setenv("EOPF_SAMPLE_PORT", "8811")
    assert settings.port() == 8811
    assert settings.port("8900") == 8900  # --port wins
    for bad in ("0", "65536", "http", "-1"):
        with pytest.raises(EOPFBookError, match="EOPF_SAMPLE_PORT must be a port number"):
            settings.port(bad)


def test_idle_seconds_fall_back_on_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EOPF_SAMPLE_IDLE_SECONDS", "90")
    assert settings.idle_seconds() == 90
    for bad in ("soon", "-5", "0"):
        monkeypatch.setenv("EOPF_SAMPLE_IDLE_SECONDS", bad)
        assert settings.idle_seconds() == settings.DEFAULT_IDLE_SECONDS


def test_cache_folders_sit_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EOPF_SAMPLE_CACHE", raising=False)
    service = settings.repo_root() / ".cache" / "sample-service"
    assert settings.cache_dir("chunks") == service / "chunks"
    assert settings.cache_dir("safe") == service / "safe"
    assert settings.cache_dir("logs") == service
    monkeypatch.setenv("EOPF_SAMPLE_CACHE", str(tmp_path / "mine" / "chunks"))
    assert settings.cache_dir("chunks") == tmp_path / "mine" / "chunks"
    assert settings.cache_dir("safe") == tmp_path / "mine" / "safe"
    assert settings.cache_dir("logs") == service


def test_repo_root_holds_the_project() -> None:
    assert (settings.repo_root() / "pyproject.toml").is_file()
    assert (settings.repo_root() / "helpers" / "sample_service").is_dir()
