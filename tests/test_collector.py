"""The garbage collector during bulk work: suspended while a load runs, on again after it (as
it was before), shared by loads that overlap, and no cyclic garbage outliving its chunk."""

from __future__ import annotations

import gc
import random
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from xinyong import pipeline
from xinyong.catalog import default_catalog
from xinyong.codes import ric
from xinyong.collector import collect_young, young_only
from xinyong.ingest import load
from xinyong.ingest.load import ingest_file


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_again_after_however_the_block_ends() -> None:
    with young_only():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), young_only():
        raise RuntimeError("the load failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with young_only():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_blocks_share_one_suspension() -> None:
    """Two loads on two threads, the first ending while the second still runs: the collector
    stays off until the second ends."""
    first_in, first_out, second_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with young_only():
            first_in.set()
            assert second_in.wait(5)
        first_out.set()

    second_in = threading.Event()

    def second() -> None:
        assert first_in.wait(5)
        with young_only():
            second_in.set()
            assert first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert second_done.is_set() and seen == {"after the first ended": False}
    assert gc.isenabled()


def test_collect_young_frees_a_cycle() -> None:
    class Node:
        other: Any = None

    with young_only():
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # nothing collects it automatically in here
        collect_young()
        assert gone() is None


HEADER = "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,失信被执行人行为具体情形,发布时间"


def test_a_load_runs_with_the_collector_off_and_frees_each_chunks_cycles(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While ``ingest`` loads, no automatic collection runs; cyclic garbage a chunk leaves is
    gone before the next chunk is written; afterwards the collector is on."""
    rng = random.Random(5)
    lines = [HEADER] + [
        f"被执行人{i},{ric.generate(rng)},北京市海淀区人民法院,（2024）京0108执{i}号,"
        "违反财产报告制度的,2024-03-05"
        for i in range(25)
    ]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(load, "CHUNK_ROWS", 10)
    real = pipeline.apply_records
    left: list[weakref.ref[Any]] = []
    states: list[tuple[bool, bool]] = []

    class Cycle:
        me: Any = None

    def leaves_a_cycle(*args: Any, **kwargs: Any) -> set[int]:
        # was the previous chunk's cycle collected before this chunk?
        states.append((gc.isenabled(), all(r() is None for r in left)))
        garbage = Cycle()
        garbage.me = garbage
        left.append(weakref.ref(garbage))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "apply_records", leaves_a_cycle)
    result = ingest_file(engine, path, "judgment_defaulter", "spc", catalog=default_catalog())
    assert result.accepted == 25
    assert states == [(False, True)] * 3
    assert gc.isenabled()
