"""Malformed department files, generated: ingest answers unusable input or rejects rows, and a
refused file leaves the store unchanged. Never any other exception."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from xinyong.catalog import default_catalog
from xinyong.errors import UnusableInput
from xinyong.ingest import ingest_file
from xinyong.store.engine import opened
from xinyong.store.schema import upgrade
from xinyong.store.tables import records

HEADER = (
    "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,失信被执行人行为具体情形,决定日期\n"
)
CELL = st.text(alphabet=st.sampled_from(list('=+-@\t\r\n",{}[]:x0王\x00')), max_size=12)
CSV = st.lists(st.lists(CELL, max_size=8), max_size=5).map(
    lambda rows: (HEADER + "\n".join(",".join(r) for r in rows)).encode("utf-8", "surrogatepass")
)
JSONL = st.lists(CELL, max_size=5).map(lambda lines: "\n".join(lines).encode())


def _zip(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", member)
    return buffer.getvalue()


FILES = st.one_of(
    CSV.map(lambda b: ("in.csv", b)),
    JSONL.map(lambda b: ("in.jsonl", b)),
    st.binary(max_size=200).map(lambda b: ("in.xlsx", _zip(b))),
    st.binary(max_size=200).map(lambda b: ("in.xlsx", b)),
)


@pytest.mark.slow  # about 10 s: each example migrates a fresh SQLite store
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES)
def test_malformed_files_are_refused_or_rejected_and_a_refusal_stores_nothing(
    file: tuple[str, bytes],
) -> None:
    name, data = file
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        with opened(f"sqlite:///{Path(tmp) / 'x.db'}") as engine:
            upgrade(engine)
            try:
                ingest_file(
                    engine, path, "judgment_defaulter", "court",
                    catalog=default_catalog(), rejects_path=Path(tmp) / "r.csv",
                )  # fmt: skip
            except UnusableInput:
                with engine.connect() as conn:
                    assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 0
