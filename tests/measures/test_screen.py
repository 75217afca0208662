"""``screen``: codes checked in DuckDB SQL exactly as ``xinyong.codes`` checks them; the CLI.

The agreement test draws a few thousand valid codes of every kind with a fixed seed, corrupts
them in the ways people do (a changed character, a dropped or extra one, separators, lower and
full-width case, junk) and holds the SQL verdict to ``reason_of`` code by code.
"""

from __future__ import annotations

import csv
import json
import random
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.measures.conftest import PERSON_D, Load, defaulter, runner

from xinyong.cli import app
from xinyong.codes import orgcode, regions, ric, uscc
from xinyong.codes.identifiers import reason_of
from xinyong.measures.screen import CSV_HEADER, Decided, codes_sql, csv_lines, csv_tails
from xinyong.spreadsheet import neutralise_sql

_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F) if c != 0x2D}


def _variants(code: str, rng: random.Random) -> list[str]:
    i = rng.randrange(len(code))
    changed = code[:i] + rng.choice("0123456789ABCXZIOS@中ａ") + code[i + 1 :]
    return [
        code,
        changed,
        code[:-1],
        code + rng.choice("19X"),
        code.lower(),
        f"{code[:6]}-{code[6:]}",
        f" {code[:4]} {code[4:]}\t",
        "".join(_FULL_WIDTH.get(ch, ch) for ch in code),
        code[::-1],
    ]


def _sample() -> list[str | None]:
    rng = random.Random(2024)
    codes: list[str | None] = []
    for _ in range(400):
        person = ric.generate(rng)
        for code in (
            uscc.generate(rng),
            uscc.generate(rng, region=uscc.CENTRAL_REGION),
            orgcode.generate(rng),
            person,
            person[:6] + person[8:17],  # the 15-digit form
        ):
            codes.extend(_variants(code, rng))
    codes += [None, "", "   ", "Ｘ", "9" * 18, "1" * 17 + "X", "ß" * 9, "12345678-9", "１２３"]
    codes += ["110101188001010019", "110101" + "29991231" + "0011"]  # too early; future
    return codes


def test_sql_code_checks_agree_with_xinyong_codes() -> None:
    codes = _sample()
    con = duckdb.connect()
    con.register("xy_regions", pa.table({"code": sorted(regions.valid_codes())}))
    con.register("t", pa.table({"n": list(range(len(codes))), "raw": codes}))
    rows = sorted(con.execute(codes_sql("SELECT n, raw FROM t")).fetchall())
    assert [r[0] for r in rows] == list(range(len(codes)))
    kinds = set()
    reasons = set()
    for (_, raw, scheme, reason, value), code in zip(rows, codes, strict=True):
        assert raw == code
        kind, compacted, problem = reason_of(code or "")
        if problem is not None:
            assert reason == problem, code
            reasons.add(problem)
            continue
        assert reason is None, (code, reason)
        expected = ric.to_18(compacted) if kind == "ric" and len(compacted) == 15 else compacted
        assert (scheme, value) == (kind, expected), code
        kinds.add(kind)
    assert kinds == {"uscc", "orgcode", "ric"}
    # Every reason the Python checks give turns up, so each SQL branch was exercised.
    assert reasons >= {
        "length", "charset", "authority", "category", "region", "org_checksum", "checksum",
        "birth_date",
    }  # fmt: skip


def _write_csv(path: Path, header: str, codes: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header, "name"])
        writer.writerows([c, f"buyer {i}"] for i, c in enumerate(codes))
    return path


def _screen(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["screen", *args, "--db", db_url])
    return result.exit_code, result.output


#: Others than the defaulter: a bad check digit, a valid number, a 15-digit number born in
#: month 13, an empty cell.
_OTHERS = ["110101199003077777", "340405199011034461", "130203911301060", ""]


def test_screen_csv_keeps_order_reports_invalid_codes_and_denies_the_defaulter(
    db_url: str, load: Load, tmp_path: Path
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    spaced = f"{PERSON_D[:6]} {PERSON_D[6:14]} {PERSON_D[14:]}"
    codes = [_OTHERS[0], PERSON_D, _OTHERS[1], spaced, _OTHERS[2], _OTHERS[3], "junk!"]
    source = _write_csv(tmp_path / "buyers.csv", "身份证号码", codes)
    out = tmp_path / "out.csv"
    code, output = _screen(
        db_url, str(source), "--action", "buy_flight_ticket", "--out", str(out),
        "--at", "2025-01-01", "--json",
    )  # fmt: skip
    assert code == 0, output
    summary = json.loads(output)
    assert summary["rows"] == len(codes) and summary["invalid"] == 4
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["code"] for r in rows] == [c or "" for c in codes]
    assert [r["outcome"] for r in rows] == [
        "invalid", "deny", "permit", "deny", "invalid", "invalid", "invalid",
    ]  # fmt: skip
    assert rows[0]["measures"] == "checksum"
    assert rows[4]["measures"] == "birth_date"
    assert rows[5]["measures"] == "length" and rows[6]["measures"] == "charset"
    assert rows[1]["until"] == "2026-03-05"  # two years from 2024-03-05, inclusive
    assert "consumption_restriction_flight" in rows[1]["measures"].split(";")
    assert rows[2]["until"] == "" and rows[2]["measures"] == ""


def test_screen_parquet_in_and_out_and_the_legacy_number_of_a_defaulter(
    db_url: str, load: Load, tmp_path: Path
) -> None:
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    legacy = PERSON_D[:6] + PERSON_D[8:17]  # the same person's 15-digit number
    codes = [_OTHERS[1], legacy, PERSON_D.lower(), _OTHERS[0]] * 50
    source = tmp_path / "buyers.parquet"
    pq.write_table(pa.table({"证件号码": codes, "n": list(range(len(codes)))}), source)
    out = tmp_path / "out.parquet"
    code, output = _screen(
        db_url, str(source), "--action", "buy_flight_ticket", "--out", str(out),
        "--at", "2025-01-01",
    )  # fmt: skip
    assert code == 0, output
    assert "200" in output
    table = pq.read_table(out).to_pylist()
    assert [r["code"] for r in table] == codes
    assert [r["outcome"] for r in table[:4]] == ["permit", "deny", "deny", "invalid"]


def test_screen_column_option_and_unusable_input_exit_2_with_one_line(
    db_url: str, load: Load, tmp_path: Path
) -> None:
    source = _write_csv(tmp_path / "buyers.csv", "buyer", [PERSON_D, _OTHERS[0]])
    out = tmp_path / "out.csv"
    ok, output = _screen(
        db_url, str(source), "--action", "buy_flight_ticket", "--out", str(out),
        "--column", "buyer",
    )  # fmt: skip
    assert ok == 0, output
    assert out.read_text(encoding="utf-8").splitlines()[2].split(",")[1] == "invalid"
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"\x00\x01 not parquet \xff" * 10)
    cases = [  # (file, action, options, what the one line says)
        (str(tmp_path / "missing.csv"), "buy_flight_ticket", [], "no such file"),
        (str(source), "fly_to_the_moon", [], "unknown action 'fly_to_the_moon' (known: "),
        (str(source), "buy_flight_ticket", ["--column", "nope"], "no column 'nope'"),
        (str(junk), "buy_flight_ticket", [], "cannot read"),
        (str(tmp_path / "buyers.xlsx"), "buy_flight_ticket", [], "CSV or Parquet only"),
    ]
    (tmp_path / "buyers.xlsx").write_bytes(b"PK")
    for path, action, extra, says in cases:
        code, output = _screen(db_url, path, "--action", action, "--out", str(out), *extra)
        assert code == 2, (path, action, output)
        (line,) = output.strip().splitlines()
        assert line.startswith("错误 / error: ") and says in line, line


def test_a_file_broken_past_its_first_batches_gives_one_line_and_no_result(
    db_url: str, tmp_path: Path
) -> None:
    """DuckDB finds the broken row only while the rows are being written (past what it samples
    and past the first batches): exit 2 with one line, no ``out``, no ``.partial`` left."""
    work = tmp_path / "screens"
    work.mkdir()
    source = work / "buyers.csv"
    rows = "".join(f"{_OTHERS[1]},buyer {i}\n" for i in range(300_000))
    source.write_text(f"code,name\n{rows}1,2,3\n", encoding="utf-8")
    for out in (work / "out.csv", work / "out.parquet"):
        code, output = _screen(
            db_url, str(source), "--action", "buy_flight_ticket", "--out", str(out)
        )
        assert code == 2, output
        (line,) = output.strip().splitlines()
        assert "cannot screen buyers.csv" in line and "CSV Error on Line: 300002" in line, line
        assert not out.exists()
    assert sorted(p.name for p in work.iterdir()) == ["buyers.csv"]


def test_decided_combines_only_the_codes_its_batches_match() -> None:
    rng = random.Random(7)
    person, other, firm = ric.generate(rng), ric.generate(rng), uscc.generate(rng)
    inner = firm[8:17]
    unseen, more = ric.generate(rng), ric.generate(rng)
    index = pa.table(
        {
            "code": [person, person, inner, other, unseen, more],
            "effect": ["deny", "deny", "prefer", "deny", "review", "deny"],
            "until": pa.array(
                [date(2030, 1, 1), None, date(2029, 1, 1), None, None, None], pa.date32()
            ),
            "measure": ["m2", "m1", "m3", "m4", "m5", "m6"],
        }
    )
    decided = Decided(index, duckdb.connect(config={"threads": 1}))
    first = decided.decide(pa.array([person, "123"], pa.string())).to_pylist()
    second = decided.decide(pa.array([firm, person], pa.string())).to_pylist()
    assert first == [
        {"code": person, "outcome": "deny", "until": None, "measures": "m1;m2"},
        {"code": "123", "outcome": "invalid", "until": None, "measures": "length"},
    ]
    assert second == [
        {"code": firm, "outcome": "prefer", "until": date(2029, 1, 1), "measures": "m3"},
        {"code": person, "outcome": "deny", "until": None, "measures": "m1;m2"},
    ]
    assert decided.counts == {"deny": 2, "review": 0, "prefer": 1, "permit": 0, "invalid": 1}
    # ``other`` is in the index but in no batch: never combined (4 codes read, fewer than the
    # index's 5, so the rule below has not come into play).
    assert int((decided.outcome_of[: decided.size] >= 0).sum()) == 2
    assert not decided.all_combined
    # Once as many codes were read as the index holds, the rest of it is combined at once.
    decided.decide(pa.array(["123"] * (decided.size - decided.done), pa.string()))
    assert decided.all_combined and (decided.outcome_of[: decided.size] >= 0).all()
    assert decided.decide(pa.array([other], pa.string())).to_pylist()[0]["outcome"] == "deny"


def test_decided_csv_over_batches_is_the_copy_of_its_decisions(tmp_path: Path) -> None:
    """``Decided.write_csv`` (each line the code's cell and the tail of its decision, made once
    per decision) over batches where decisions recur and new ones appear late gives DuckDB's
    ``COPY`` of the same decisions (``Decided.rows``), byte for byte."""
    rng = random.Random(11)
    people = [ric.generate(rng) for _ in range(6)]
    firm = uscc.generate(rng)
    index = pa.table(
        {
            "code": [people[0], people[0], people[1], firm[8:17], people[4]],
            "effect": ["deny", "review", "deny", "prefer", "deny"],
            "until": pa.array(
                [date(2030, 1, 1), None, date(2027, 5, 1), date(2029, 1, 1), date(2031, 2, 3)],
                pa.date32(),
            ),
            "measure": ["m2", "m1", "m,3", 'm"4', "=m5"],
        }
    )
    batches = [
        [people[0], "123", people[2], "=1+1"],
        [people[0], people[1], firm, None, people[3], ""],
        [people[4], people[4], people[1], "x" * 18, people[5]],
        [],
    ]
    source = [pa.record_batch({"raw": pa.array(b, pa.string())}) for b in batches]

    def reader() -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(source[0].schema, source)

    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    decided = Decided(index, duckdb.connect(config={"threads": 1}))
    decided.write_csv(reader(), ours)
    again = Decided(index, duckdb.connect(config={"threads": 1}))
    con = duckdb.connect()
    con.register("xy_rows", again.rows(reader()))
    query = f"SELECT {neutralise_sql('code')} AS code, outcome, until, measures FROM xy_rows"
    con.execute(f"COPY ({query}) TO '{theirs}' (FORMAT CSV, HEADER)")
    assert ours.read_bytes() == theirs.read_bytes()
    assert decided.counts == again.counts and decided.counts["deny"] == 6
    assert len(decided.tails) == len(set(decided.tails.to_pylist())) < 15


#: Cells DuckDB's CSV writer quotes or a spreadsheet reads as a formula, and others that are
#: neither: each as the screen's CSV gives it back (``code`` neutralised, then quoted).
_AWKWARD = [
    ('"quoted"', '"""quoted"""'), ("a,b", '"a,b"'), ("line\nbreak", '"line\nbreak"'),
    ("cr\rhere", '"cr\rhere"'), ("=cmd|x", "'=cmd|x"),
    ('=HYPERLINK("h","x")', '"\'=HYPERLINK(""h"",""x"")"'), ("+86", "+86"), ("+cmd", "'+cmd"),
    ("-12.5", "-12.5"), ("-２", "'-２"), ("@SUM(A1)", "'@SUM(A1)"), ("\tTAB", "'\tTAB"),
    ("\rCR", '"\'\rCR"'), ("\nLF", '"\nLF"'), ("全角，逗号", "全角，逗号"), ("", '""'), (None, ""),
    ("#hash", '"#hash"'), ("a#b", '"a#b"'), (" lead", " lead"), ("it's", "it's"),
    ("NULL", "NULL"), ("- 1", "'- 1"), ("=", "'="), ('"', '""""'), (",", '","'),
    ('=a,b"c', '"\'=a,b""c"'), ("-1\n", '"\'-1\n"'), ("\u3000", "\u3000"),
]  # fmt: skip


_FLIGHT_MEASURES = "consumption_restriction_flight;serious_dishonesty_flight_ban"


def test_screen_csv_writes_awkward_cells_byte_for_byte(
    db_url: str, load: Load, tmp_path: Path
) -> None:
    """The bytes of a screen's CSV: the header, each awkward cell, NULL as nothing, the empty
    text quoted (also the empty ``measures`` of a permitted code), a date as YYYY-MM-DD."""
    load("judgment_defaulter", [defaulter(PERSON_D, "王五", "（2024）浙0106执1号")])
    codes = [cell for cell, _ in _AWKWARD] + [PERSON_D, _OTHERS[1]]
    source = tmp_path / "buyers.parquet"
    pq.write_table(pa.table({"code": pa.array(codes, pa.string())}), source)
    out = tmp_path / "out.csv"
    code, output = _screen(
        db_url, str(source), "--action", "buy_flight_ticket", "--out", str(out),
        "--at", "2025-01-01",
    )  # fmt: skip
    assert code == 0, output
    lines = ["code,outcome,until,measures"]
    lines += [f"{written},invalid,,{reason_of(cell or '')[2]}" for cell, written in _AWKWARD]
    lines += [f"{PERSON_D},deny,2026-03-05,{_FLIGHT_MEASURES}", f'{_OTHERS[1]},permit,,""', ""]
    assert out.read_bytes() == "\n".join(lines).encode("utf-8")


_TEXT = st.one_of(
    st.text(),
    st.text(st.sampled_from('=+-@\t\r\n",#; a1.e')),
    st.sampled_from(["", "-12.5", "=1", "#", '"']),
    st.none(),
)
_ROW = st.tuples(
    _TEXT,
    st.sampled_from(["deny", "permit", "invalid"]),
    st.one_of(st.none(), st.dates()),
    _TEXT,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_ROW, max_size=20), max_size=4))
@example([[("=a,b", "deny", date(1, 1, 1), ""), (None, "permit", None, None)], []])
def test_csv_lines_are_duckdbs_copy(batches: list[list[tuple[object, ...]]]) -> None:
    """``CSV_HEADER`` and each batch's ``csv_lines`` (its codes, the ``csv_tails`` of its other
    columns) are what DuckDB's ``COPY (SELECT <neutralise_sql(code)> AS code, …) TO … (FORMAT
    CSV, HEADER)`` wrote from the same batches, byte for byte (any text, NULLs, empty batches,
    dates from year 1 to 9999)."""
    schema = pa.schema(
        [("code", pa.string()), ("outcome", pa.string()), ("until", pa.date32()),
         ("measures", pa.string())]
    )  # fmt: skip
    made = [
        pa.RecordBatch.from_pylist([dict(zip(schema.names, r, strict=True)) for r in b], schema)
        for b in batches
    ]
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.csv", Path(tmp) / "theirs.csv"
        lines = [csv_lines(b.column(0), csv_tails(*b.columns[1:])) for b in made]
        ours.write_bytes(CSV_HEADER + "".join(t for a in lines for t in a.to_pylist()).encode())
        con = duckdb.connect()
        con.register("xy_rows", pa.RecordBatchReader.from_batches(schema, made))
        query = f"SELECT {neutralise_sql('code')} AS code, outcome, until, measures FROM xy_rows"
        con.execute(f"COPY ({query}) TO '{theirs}' (FORMAT CSV, HEADER)")
        assert ours.read_bytes() == theirs.read_bytes()
