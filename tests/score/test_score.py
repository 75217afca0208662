"""Scoring, checked from outside as the issue writes it: every shipped model on the examples."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from tests.score.conftest import code_with, run

from xinyong.api.app import create_app
from xinyong.catalog import default_catalog
from xinyong.measures.clients import create_client
from xinyong.score import score_code
from xinyong.score.ledger import Ledger
from xinyong.store.engine import opened
from xinyong.store.queries import StoredRecord


def test_every_shipped_model_scores_the_examples_and_adds_up(loaded: str) -> None:
    catalog = default_catalog()
    assert set(catalog.scoring_models) == {"rongcheng_points", "tax_credit_grade"}
    with opened(loaded) as engine, engine.connect() as conn:
        codes = [r[0] for r in conn.exec_driver_sql("SELECT primary_code FROM subjects")]
    assert len(codes) >= 5
    for code in codes:
        out = run("score", code, "--db", loaded, "--at", "2024-06-01", "--json", "--purpose", "t")
        assert out[0] == 0, out
        body = json.loads(out[1])
        assert [b["model"] for b in body] == sorted(catalog.scoring_models)
        for one in body:
            assert {"subject", "model", "at", "score", "grade", "contributions", "reasons"} <= set(
                one
            )
            assert one["subject"] == code and one["at"] == "2024-06-01"
            assert sum(c["points"] for c in one["contributions"]) == one["score"]
            assert one["contributions"][0]["source"] == "base"
            assert all(" / " in c["reason"] for c in one["contributions"])


def test_a_defaulter_loses_points_with_reasons_and_a_what_if(loaded: str) -> None:
    defaulter, _ = code_with(loaded, "judgment_defaulter", "individual")
    code, out, err = run(
        "score", defaulter, "--model", "rongcheng_points", "--json", "--db", loaded,
        "--purpose", "t",
    )  # fmt: skip
    assert code == 0, (out, err)
    body = json.loads(out)
    assert body["score"] == 900 and body["grade"] == "B"
    assert body["reasons"][0]["points"] == -100
    assert "失信被执行人" in body["reasons"][0]["zh"] and "defaulter" in body["reasons"][0]["en"]
    (what,) = body["what_if"]
    assert what["grade"] == "A" and what["changes_grade"] is True
    assert what["repairable"] is False  # removed by the court, not by credit repair


def test_a_past_score_is_reproduced_with_at_and_known_at(loaded: str) -> None:
    penalised, fields = code_with(loaded, "admin_penalty")
    # the example: a general penalty decided in 2024, under NDRC order No. 58 (decided before
    # 2026-04-01): three years of disclosure, not order No. 36's one year for general ones
    assert fields["severity"] == "general"
    decided = date.fromisoformat(fields["decided_on"])
    assert decided.year == 2024
    with opened(loaded) as engine, engine.connect() as conn:
        then = score_code(
            conn, penalised, "rongcheng_points", at=date(2024, 6, 1), catalog=default_catalog()
        )[0]
        later = score_code(
            conn, penalised, "rongcheng_points", at=date(2027, 12, 1), catalog=default_catalog()
        )[0]
        before = score_code(
            conn, penalised, "rongcheng_points", at=date(2023, 6, 1), catalog=default_catalog()
        )[0]
        unknown = score_code(
            conn,
            penalised,
            "rongcheng_points",
            at=date(2024, 6, 1),
            known_at=datetime(2000, 1, 1, tzinfo=UTC),
            catalog=default_catalog(),
        )[0]
    # A penalty counts for its disclosure period (order No. 58: three years), then stops by
    # itself: disclosed through the corresponding day, it stops counting the day after.
    assert then.score == 980 and then.changes_on == decided.replace(year=2027) + timedelta(days=1)
    assert later.score == 1000 and before.score == 1000
    assert unknown.score == 1000  # the platform did not know the penalty in 2000


def test_exit_codes(loaded: str) -> None:
    defaulter, _ = code_with(loaded, "judgment_defaulter")
    assert run("score", "123", "--db", loaded)[0] == 2
    assert run("score", "91350100M000100Y4X", "--db", loaded)[0] == 2
    code, out, err = run("score", "91350100M000100Y43", "--db", loaded, "--purpose", "t")
    assert code == 1 and "no such subject" in out + err
    assert run("score", defaulter, "--model", "nope", "--db", loaded)[0] == 2
    assert run("score", defaulter, "--at", "2024-13-01", "--db", loaded)[0] == 2
    assert run("score", "--all", "--db", loaded)[0] == 2


def test_batch_matches_one_by_one(loaded: str, tmp_path: Path) -> None:
    for model in ("rongcheng_points", "tax_credit_grade"):
        out = tmp_path / f"{model}.csv"
        code, _, err = run(
            "score", "--all", "--model", model, "--out", str(out), "--at", "2024-06-01",
            "--db", loaded, "--purpose", "batch test",
        )  # fmt: skip
        assert code == 0, err
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) >= 5
        with opened(loaded) as engine, engine.connect() as conn:
            for row in rows:
                one = score_code(
                    conn, row["subject"], model, at=date(2024, 6, 1), catalog=default_catalog()
                )[0]
                assert int(row["score"]) == one.score
                assert (row["grade"] or None) == one.grade


def test_api_scores_a_subject(loaded: str) -> None:
    defaulter, _ = code_with(loaded, "judgment_defaulter")
    with opened(loaded) as engine, engine.begin() as conn:
        _, key = create_client(conn, default_catalog(), authority="pboc", role="agency")
    app = create_app(loaded)
    with TestClient(app, headers={"X-API-Key": key}) as client:
        url = f"/api/v1/subjects/{defaulter}/score"
        got = client.get(url, params={"model": "rongcheng_points", "purpose": "授信审查"})
        assert got.status_code == 200, got.text
        assert got.json()["score"] == sum(c["points"] for c in got.json()["contributions"])
        assert len(client.get(url, params={"purpose": "授信审查"}).json()) == 2
        bad = client.get("/api/v1/subjects/123/score", params={"purpose": "x"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem")
        missing = client.get("/api/v1/subjects/91350100M000100Y43/score", params={"purpose": "x"})
        assert missing.status_code == 404
    app.state.engine.dispose()


# -- the ledger's rules, on records made in memory ------------------------------------------


def record(rid: int, rtype: str, decided: date, **fields: object) -> StoredRecord:
    return StoredRecord(
        id=rid,
        record_type=rtype,
        source="sta",
        subject_id=1,
        subject_code=None,
        subject_name="x",
        document_no=f"doc{rid}",
        decided_on=decided,
        valid_from=decided,
        valid_to=None,
        fields=dict(fields),
        status="active",
        version=1,
        supersedes=None,
        recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
        superseded_at=None,
    )


def test_major_tax_violation_gives_d_whatever_the_points() -> None:
    catalog = default_catalog()
    ledger = Ledger(catalog.scoring_models["tax_credit_grade"], catalog)
    at = date(2025, 6, 1)
    score, grade, _, decisions = ledger.evaluate(
        [record(1, "major_tax_violation", date(2025, 3, 1), violation="tax_evasion")], at
    )
    assert score == 100 and grade == "D" and decisions[0].effect == "direct"
    # A year later the evaluation-year window has closed.
    assert ledger.evaluate([record(1, "major_tax_violation", date(2024, 3, 1))], at)[1] == "A"
    # D last year: cannot be A however high the score.
    last_year_d = [record(2, "tax_credit_rating", date(2025, 4, 1), grade="D", year=2024)]
    assert ledger.evaluate(last_year_d, at)[:2] == (100, "B")
    # Newly established: M.
    new = [record(3, "enterprise_registration", date(2025, 2, 1))]
    assert ledger.evaluate(new, at)[1] == "M"


def test_caps_and_floor_are_contributions_so_the_sum_holds() -> None:
    catalog = default_catalog()
    ledger = Ledger(catalog.scoring_models["rongcheng_points"], catalog)
    at = date(2025, 6, 1)
    many = [
        record(i, "admin_penalty", date(2025, 1, 1), severity="serious") for i in range(1, 6)
    ] + [record(10 + i, "judgment_defaulter", date(2024, 1, 1)) for i in range(12)]
    score, grade, parts, _ = ledger.evaluate(many, at)
    assert sum(int(c.points) for c in parts) == score == 0
    sources = {c.source for c in parts}
    assert "cap:penalty_serious" in sources and "floor" in sources
    cap = next(c for c in parts if c.source == "cap:penalty_serious")
    assert cap.points == 5 * 50 - 150
    assert grade == "D"


def test_repaired_records_do_not_count() -> None:
    catalog = default_catalog()
    ledger = Ledger(catalog.scoring_models["rongcheng_points"], catalog)
    rec = record(1, "judgment_defaulter", date(2024, 1, 1))
    assert ledger.evaluate([rec], date(2025, 1, 1))[0] == 900
    assert ledger.evaluate([replace(rec, status="repaired")], date(2025, 1, 1))[0] == 1000


# -- scorecards ------------------------------------------------------------------------------


def test_train_refuses_a_column_outside_the_catalog(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("judgment_defaulter.count,monthly_income,bad\n1,5000,1\n0,9000,0\n")
    code, _, err = run("score", "train", str(data), "--target", "bad")
    assert code == 2 and "monthly_income" in err and "catalog" in err
    data.write_text("admin_penalty.address.sum,bad\n1,1\n0,0\n")
    code, _, err = run("score", "train", str(data), "--target", "bad")
    assert code == 2 and "address" in err
    assert run("score", "train", str(tmp_path / "none.csv"), "--target", "bad")[0] == 2
    data.write_bytes("judgment_defaulter.count,bad\n1,1\n".encode("utf-16"))
    assert run("score", "train", str(data), "--target", "bad")[0] == 2


def test_train_save_and_score_with_a_scorecard(loaded: str, tmp_path: Path) -> None:
    defaulter, _ = code_with(loaded, "judgment_defaulter")
    rng = np.random.default_rng(7)
    n = 2000
    defaults = rng.poisson(0.3, n)
    fines = rng.gamma(1.0, 10.0, n) * (rng.random(n) < 0.3)
    logit = -1.5 + 1.2 * defaults + 0.03 * fines
    bad = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    data = tmp_path / "train.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["judgment_defaulter.count", "admin_penalty.fine_amount.sum", "bad"])
        writer.writerows(zip(defaults, fines.round(2), bad, strict=True))
    model = tmp_path / "card.json"
    code, out, err = run(
        "score", "train", str(data), "--target", "bad", "--out", str(model), "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["train_auc"] > 0.65 and len(summary["version"]) == 12
    saved = json.loads(model.read_text(encoding="utf-8"))
    assert saved["format"] == "xinyong-scorecard" and saved["binning"][0]["bins"]
    code, out, err = run(
        "score", defaulter, "--model", str(model), "--json", "--db", loaded, "--purpose", "t"
    )
    assert code == 0, err
    body = json.loads(out)
    assert round(sum(c["points"] for c in body["contributions"]), 2) == body["score"]
    assert body["contributions"][0]["source"] == "base"


def test_a_person_under_18_gets_no_grade_from_a_points_model_for_adults() -> None:
    """rongcheng_points is for persons aged 18 or over (its adults_only): on the day before the
    18th birthday the arithmetic is shown and no grade is given, citing the article; on the
    birthday the grade is given. An enterprise's grade is untouched."""
    from xinyong.codes import ric
    from xinyong.score.subject import score_records
    from xinyong.store.queries import SubjectRef

    catalog = default_catalog()
    person = ric.generate(random.Random(18), birth_date=date(2008, 12, 5))
    records = [record(1, "judgment_defaulter", date(2026, 1, 5))]
    minor = score_records(SubjectRef(1, "individual", person), records, "rongcheng_points",
                          date(2026, 12, 4), catalog=catalog)  # fmt: skip
    assert (minor.score, minor.grade, minor.applicable, minor.minor) == (900, None, False, True)
    assert (
        minor.adults_only is not None
        and "《荣成市个人信用积分管理办法》 第三条" in minor.adults_only
    )
    assert minor.as_json()["minor"] is True and minor.what_if == []
    adult = score_records(SubjectRef(1, "individual", person), records, "rongcheng_points",
                          date(2026, 12, 5), catalog=catalog)  # fmt: skip
    assert (adult.grade, adult.applicable, adult.minor, adult.adults_only) == (
        "B",
        True,
        False,
        None,
    )
    company = score_records(SubjectRef(2, "enterprise", "911101015366008218"), records,
                            "rongcheng_points", date(2026, 12, 4), catalog=catalog)  # fmt: skip
    assert company.grade == "B" and not company.minor
