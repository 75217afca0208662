"""A decision applies the law in force on the day it is asked about, and names the instruments.

The restriction index holds what the records say; whether a measure holds on ``at`` is the
law's question (:mod:`xinyong.catalog.law`): the premium-flight ban on the dishonest
(发改财金〔2018〕385号) took effect 2018-05-01, so a defaulter asking the day before is not
refused under it.
"""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.catalog import default_catalog
from xinyong.codes.identifiers import identify
from xinyong.measures.decisions import IndexRow, decide

CODE = "91350100M000100Y43"


def _row(measure: str, list_id: str) -> IndexRow:
    return IndexRow(measure, "deny", list_id, 7, None, date(2018, 1, 1), None, None, None,
                    "judgment_defaulter", None)  # fmt: skip


@pytest.mark.parametrize(
    ("at", "outcome"), [(date(2018, 4, 30), "permit"), (date(2018, 5, 1), "deny")]
)
def test_a_measure_holds_from_its_instruments_effective_day(at: date, outcome: str) -> None:
    catalog = default_catalog()
    decision = decide(
        catalog, identify(CODE), "buy_flight_ticket", at, None, 1,
        [_row("serious_dishonesty_flight_ban", "judgment_defaulters")],
    )  # fmt: skip
    assert decision.outcome == outcome
    shown = decision.as_json()
    if outcome == "deny":
        # the measure's instruments and the list's, each once
        assert shown["instruments"][0] == "ndrc_aviation_2018"
        assert "spc_defaulter_list_2017" in shown["instruments"]
        assert len(set(shown["instruments"])) == len(shown["instruments"])
    else:
        assert shown["instruments"] == [] and shown["reasons"] == []
