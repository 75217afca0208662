"""``xinyong batch screen``: the same rows as ``xinyong screen``, and ``xinyong score --all
--engine duckdb|spark`` (``xinyong batch score`` is its alias) the same rows on either engine, on a
real store (a defaulter loaded through ingest); bad usage exits 2 with one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from tests.batch.conftest import PANDAS_WARNING
from typer.testing import CliRunner

from xinyong.audit import events as audit_event_module
from xinyong.audit import list_events
from xinyong.audit.tables import audit_events
from xinyong.batch.engines import SparkEngine
from xinyong.catalog import default_catalog
from xinyong.cli import app
from xinyong.ingest import ingest_file
from xinyong.store.engine import connect

pytestmark = pytest.mark.filterwarnings(PANDAS_WARNING)
runner = CliRunner()
DEFAULTER = "130203199105010601"
OTHER = "340405199011034461"
ACTION = "buy_flight_ticket"
AT = "2025-01-01"  # while the listing holds


@pytest.fixture()
def store(sqlite_store_url: str, tmp_path: Path) -> str:
    engine = connect(sqlite_store_url)
    path = tmp_path / "defaulters.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["被执行人姓名/名称", "身份证号码/组织机构代码", "执行法院", "案号",
                         "失信被执行人行为具体情形", "决定日期"])  # fmt: skip
        writer.writerow(["张三", DEFAULTER, "杭州市西湖区人民法院", "（2024）浙0106执1号",
                         "违反财产报告制度的", "2024-03-05"])  # fmt: skip
    catalog = default_catalog()
    result = ingest_file(engine, path, "judgment_defaulter", "spc", catalog=catalog)
    assert result.accepted == 1
    engine.dispose()
    return sqlite_store_url


def _codes(tmp_path: Path) -> Path:
    path = tmp_path / "buyers.parquet"
    codes = [OTHER, DEFAULTER, "not a code", None, DEFAULTER.lower(), DEFAULTER[:-1] + "0"]
    pq.write_table(pa.table({"身份证号码": pa.array(codes, pa.string())}), path)
    return path


def _expected(store: str, source: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    out = tmp_path / "reference.csv"
    args = ["screen", str(source), "--action", ACTION, "--out", str(out), "--at", AT, "--db", store]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        return [(r["code"], r["outcome"], r["measures"]) for r in csv.DictReader(handle)]


def _got(out: Path) -> list[tuple[str, str, str]]:
    table = pq.read_table(out).sort_by("n")
    return [
        ("" if r["code"] is None else r["code"], r["outcome"], r["measures"])
        for r in table.to_pylist()
    ]


def _batch_screen(store: str, source: Path, out: Path, *extra: str) -> None:
    args = ["batch", "screen", str(source), "--action", ACTION, "--out", str(out), "--at", AT]
    result = runner.invoke(app, [*args, "--column", "身份证号码", "--db", store, "--json", *extra])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out"] == str(out)


def test_batch_screen_on_duckdb_gives_what_screen_gives(store: str, tmp_path: Path) -> None:
    source = _codes(tmp_path)
    expected = _expected(store, source, tmp_path)
    assert [e[1] for e in expected] == ["permit", "deny", "invalid", "invalid", "deny", "invalid"]
    _batch_screen(store, source, tmp_path / "out.parquet")
    assert _got(tmp_path / "out.parquet") == expected


def test_batch_screen_audits_each_subject_matched_or_writes_nothing(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``xinyong screen``: one event per subject matched, before the result is written."""
    source, out = _codes(tmp_path), tmp_path / "out.parquet"
    _batch_screen(store, source, out, "--purpose", "批量核查", "--by", "clerk-5")
    engine = connect(store)
    with engine.connect() as conn:
        (event,) = list_events(conn, subject=DEFAULTER)
        assert list_events(conn, subject=OTHER) == []  # a code no subject holds
    assert (event.actor, event.purpose, event.outcome) == ("clerk-5", "批量核查", "deny")
    assert event.action == f"screen:{ACTION}"

    def refused(*args: object, **kwargs: object) -> object:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("audit log unavailable"))

    monkeypatch.setattr(audit_event_module, "_append", refused)
    again = tmp_path / "again.parquet"
    args = ["batch", "screen", str(source), "--action", ACTION, "--out", str(again), "--at", AT]
    got = runner.invoke(app, [*args, "--column", "身份证号码", "--db", store])
    assert got.exit_code == 2 and not again.exists()
    monkeypatch.undo()
    with engine.connect() as conn:
        assert len(list_events(conn, subject=DEFAULTER)) == 1
    engine.dispose()


def test_batch_screen_on_spark_gives_what_screen_gives(
    store: str, tmp_path: Path, spark_engine: SparkEngine
) -> None:
    source = _codes(tmp_path)
    expected = _expected(store, source, tmp_path)
    _batch_screen(store, source, tmp_path / "spark-out", "--engine", "spark")
    assert _got(tmp_path / "spark-out") == expected


def test_batch_score_is_an_alias_of_score_all_and_is_audited(store: str, tmp_path: Path) -> None:
    ref = tmp_path / "ref.parquet"
    common = ["--model", "rongcheng_points", "--at", "2025-01-01", "--db", store]
    result = runner.invoke(
        app, ["score", "--all", *common, "--out", str(ref), "--purpose", "年度评价"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "batch.parquet"
    result = runner.invoke(
        app, ["batch", "score", *common, "--out", str(out), "--purpose", "年度评价", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["subjects"] == 1
    assert "xinyong score --all" in result.stderr  # an alias: it says which name to use
    assert pq.read_table(out).to_pylist() == pq.read_table(ref).to_pylist()
    engine = connect(store)
    with engine.connect() as conn:
        reads = conn.execute(
            select(func.count()).where(audit_events.c.action == "score.read")
        ).scalar_one()
    engine.dispose()
    assert reads == 2  # one for score --all, one for batch score


def test_score_all_on_spark_gives_what_it_gives_on_duckdb(
    store: str, tmp_path: Path, spark_engine: SparkEngine
) -> None:
    common = ["score", "--all", "--model", "rongcheng_points", "--at", "2025-01-01", "--db", store]
    ref = tmp_path / "ref.parquet"
    assert runner.invoke(app, [*common, "--out", str(ref)]).exit_code == 0
    out = tmp_path / "spark-out"
    result = runner.invoke(app, [*common, "--out", str(out), "--engine", "spark", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["engine"] == "spark"
    assert pq.read_table(out).to_pylist() == pq.read_table(ref).to_pylist()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["screen", "{csv}", "--action", ACTION, "--out", "{out}"], "Parquet"),
        (["screen", "{missing}", "--action", ACTION, "--out", "{out}"], "no such file"),
        (["screen", "{pq}", "--action", "fly_to_the_moon", "--out", "{out}"], "fly_to_the_moon"),
        (["screen", "{pq}", "--action", ACTION, "--out", "{out}", "--engine", "oracle"], "engine"),
        (["screen", "{pq}", "--action", ACTION, "--out", "{out}", "--column", "nope"], "failed"),
        (["screen", "{pq}", "--action", ACTION, "--out", "{out}", "--at", "2025-13-01"], "--at"),
        (["score", "--model", "nope", "--out", "{out}", "--purpose", "x"], "nope"),
        (["score", "--model", "rongcheng_points", "--out", "{out}", "--purpose", " "], "purpose"),
        (
            [
                "score",
                "--model",
                "rongcheng_points",
                "--out",
                "{out}",
                "--purpose",
                "x",
                "--engine",
                "oracle",
            ],
            "engine",
        ),
    ],
)
def test_bad_usage_is_one_line_exit_2(
    store: str, tmp_path: Path, args: list[str], says: str
) -> None:
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text("code\n123\n", encoding="utf-8")
    values = {
        "csv": str(csv_file),
        "missing": str(tmp_path / "none.parquet"),
        "pq": str(_codes(tmp_path)),
        "out": str(tmp_path / "out.parquet"),
    }
    filled = [a.format(**values) for a in args]
    result = runner.invoke(app, ["batch", *filled, "--db", store])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
