"""The portal in a real browser (Debian's Chromium through Playwright), as a person uses it.

Search, open a subject, log in as that subject, object to a record, see its status change,
download the report. Screenshots of each page go to ``test-artifacts/screenshots/``; the
README's screenshots are copies of these.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from xinyong.store.engine import opened
from xinyong.store.tables import records, subjects

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # Chromium starts in seconds
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian chromium is not installed at /usr/bin/chromium"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _defaulter(demo_db: str) -> tuple[int, str, str]:
    """An individual judgment defaulter nobody else's test touches (the last one)."""
    with opened(demo_db) as engine, engine.connect() as conn:
        row = conn.execute(
            select(subjects.c.id, subjects.c.primary_code, records.c.subject_name)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(
                records.c.record_type == "judgment_defaulter",
                records.c.superseded_at.is_(None),
                records.c.status == "active",
                subjects.c.kind == "individual",
            )
            .order_by(subjects.c.id.desc())
        ).first()
    assert row is not None
    return row[0], row[1], row[2]


def test_search_open_object_and_download(
    browser: object, live_server: str, demo_db: str, screenshots_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    _sid, code, name = _defaulter(demo_db)
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")

    page.goto(live_server + "/")
    expect(page.locator("h1")).to_have_text("信用信息查询")
    page.screenshot(path=str(screenshots_dir / "home.png"), full_page=True)

    masked = code[:4] + "*" * 10 + code[-4:]
    page.get_by_label("名称、统一社会信用代码或身份证号码").fill(masked)
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_contain_text(name)
    page.screenshot(path=str(screenshots_dir / "search.png"), full_page=True)

    page.locator("#results a", has_text=name).first.click()
    expect(page.locator("#subject-code")).to_have_text(masked)
    assert code not in page.content()
    page.screenshot(path=str(screenshots_dir / "subject.png"), full_page=True)

    page.goto(live_server + "/lists/judgment_defaulters")
    expect(page.locator("#entries")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "defaulter-list.png"), full_page=True)
    page.goto(live_server + "/dashboard")
    page.screenshot(path=str(screenshots_dir / "dashboard.png"), full_page=True)

    page.goto(live_server + "/login")
    page.get_by_label("用户名").fill(code)
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("我的信用档案")
    details = page.locator("details.act").first
    details.locator("summary").click()
    details.get_by_label("异议理由").fill("本人已全部履行，请核实")
    details.get_by_role("button", name="提出异议").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#objections")).to_contain_text("本人已全部履行，请核实")
    expect(page.locator("body")).to_contain_text("异议处理中")
    page.screenshot(path=str(screenshots_dir / "my-file.png"), full_page=True)

    with page.expect_download() as download_info:
        page.locator("#report-link").click()
    target = tmp_path / "report.pdf"
    download_info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")

    page.goto(live_server + "/lang?to=en&next=/catalog")
    expect(page.locator("h1")).to_contain_text("Catalog and legal bases")
    page.screenshot(path=str(screenshots_dir / "catalog-en.png"), full_page=True)
    page.close()


def test_agency_checks_a_subject(
    browser: object, live_server: str, demo_db: str, screenshots_dir: Path
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    _sid, code, _name = _defaulter(demo_db)
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    page.goto(live_server + "/login")
    page.get_by_label("用户名").fill("agency:china_railway")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    page.get_by_label("主体代码").fill(code)
    page.get_by_label("行为", exact=True).select_option("buy_train_seat_premium")
    page.get_by_role("button", name="核查", exact=True).click()
    expect(page.locator("#decision")).to_be_visible()
    expect(page.locator("#history")).to_contain_text(code)
    page.screenshot(path=str(screenshots_dir / "agency-check.png"), full_page=True)
    page.close()


def test_the_api_docs_page_renders_under_its_policy(browser: object, live_server: str) -> None:
    """Swagger UI renders from the packaged assets, with the page's CSP and SRI in force: no
    request leaves our origin and the browser reports no violation."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else elsewhere.append(r.url))
    page.goto(live_server + "/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator("body")).to_contain_text("/api/v1/check")
    assert [c for c in complaints if "Content Security Policy" in c or "integrity" in c] == []
    assert [u for u in elsewhere if not u.startswith("data:")] == []
    page.close()
