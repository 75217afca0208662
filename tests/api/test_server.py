"""The worker's app factory (``xinyong.api.server``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinyong.api.server import app_from_environment


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's own heap stays collectable


def test_the_worker_app_leaves_its_startup_heap_out_of_later_collections(
    unfrozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_DB", f"sqlite:///{tmp_path / 'store.db'}")
    assert gc.get_freeze_count() == 0
    app = app_from_environment()
    assert gc.get_freeze_count() > 0
    assert not any(o is app for o in gc.get_objects())  # the collector no longer walks it
