"""No re-identification from public list pages (issue 16): an individual's region is shown to
the city at most, never the county the masked number hides."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from xinyong.codes import regions
from xinyong.store.engine import opened
from xinyong.store.tables import subjects


def _counties(demo_db: str) -> set[str]:
    """Full names of the counties individuals in the store live in (not the city names)."""
    with opened(demo_db) as engine, engine.connect() as conn:
        codes = conn.execute(
            select(subjects.c.primary_code).where(subjects.c.kind == "individual")
        ).scalars()
        out = set()
        for code in codes:
            county = regions.lookup(code[:6])
            city = regions.lookup(code[:4] + "00")
            if county is not None and (city is None or county.full_name != city.full_name):
                out.add(county.full_name)
    return out


def test_list_pages_show_an_individuals_region_to_the_city_at_most(
    client: TestClient, demo_db: str
) -> None:
    """Before: the list pages and their CSV printed an individual's county, which with the
    masked number's four digits narrowed the region code to one county."""
    counties = _counties(demo_db)
    assert counties
    listed = client.get("/lists/judgment_defaulters", params={"format": "csv"})
    assert listed.status_code == 200
    rows = list(csv.DictReader(io.StringIO(listed.text.lstrip("\ufeff"))))
    assert rows
    seen_individuals = 0
    for row in rows:
        text = " ".join(str(v) for v in row.values())
        if "**********" in text:
            seen_individuals += 1
            assert not any(county in text for county in counties), row
    assert seen_individuals


def test_an_individuals_records_show_their_region_fields_to_the_city_at_most(
    client: TestClient, demo_db: str
) -> None:
    """Before: a court defaulter's 省份 (a ``region`` field) printed the county on the public
    subject page and report (``海南省三亚市吉阳区``): the county the masked number hides."""
    counties = _counties(demo_db)
    with opened(demo_db) as engine, engine.connect() as conn:
        listed = conn.execute(
            select(subjects.c.id).where(subjects.c.kind == "individual").limit(400)
        ).scalars()
        ids = list(listed)
    shown = 0
    for subject_id in ids:
        page = client.get(f"/api/v1/subjects/{subject_id}")
        if page.status_code != 200:
            continue
        for record in page.json()["records"]:
            region = record["fields"].get("region")
            if region:
                shown += 1
                name = regions.lookup(region)
                assert region.endswith("00"), record
                assert name is None or name.full_name not in counties, record
        report = client.get(f"/api/v1/subjects/{subject_id}/report", params={"format": "html"})
        assert report.status_code == 200
        assert not any(county in report.text for county in counties), subject_id
    assert shown
