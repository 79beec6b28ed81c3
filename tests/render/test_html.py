"""audit.html: self-contained, escaped, deterministic, and working in a real headless
Chromium (Debian's `chromium`): opens without console errors, filters hide the right rows,
project links open the project's page."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from governance_engine.render.html import write_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def html(audit_out) -> str:
    return (audit_out / "audit.html").read_text(encoding="utf-8")


def test_untrusted_text_is_escaped(html):
    assert "<script>window.pwned" not in html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &#34;quoted&#34;" in html
    assert html.count("<script>") == 1  # the report's own


def test_the_page_is_self_contained_and_its_policy_pins_its_script(html):
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html), "every link stays inside the page"
    assert "<link" not in html and "@import" not in html
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1]
    script = re.search(r"<script>(.*?)</script>", html, re.S)[1]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src &#39;sha256-{digest}&#39;" in policy and "default-src &#39;none&#39;" in policy


def test_summary_table_and_project_pages_hold_every_decision(html, decisions):
    assert html.count("<tr data-outcome=") == len(decisions) == 100
    assert Counter(re.findall(r'<tr data-outcome="(\w+)"', html)) == Counter(d["outcome"] for d in decisions)
    pages = re.findall(r'<section id="([^"]+)" class="card project-page"', html)
    assert len(pages) == len(set(pages)) == len({(d["file"], d["project"]) for d in decisions})
    assert "project-x0-p0" in pages
    assert "in/zz-corrupt.json" in html and "not valid JSON" in html
    assert "<strong>1 input could not be evaluated.</strong>" in html


def test_the_same_output_directory_gives_a_byte_identical_page(audit_out, html):
    first = (audit_out / "audit.html").read_bytes()
    write_html(audit_out)
    assert (audit_out / "audit.html").read_bytes() == first


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): no browser to test the report in")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _shown(page) -> int:
    return page.locator("#decision-table tbody tr:visible").count()


def _row_text(d: dict) -> str:
    """What a row of the table shows, as the search box matches it."""
    action = d.get("action") or {}
    parts = [
        d["outcome"].replace("_", " "),
        "waived" if d.get("waiver") else "",
        f"{d['rule_id']}@{d['rule_version']}",
        d["subject"],
        d["subject_type"],
        d["project"] or "outside projects",
        d["pmo_type"],
        d["message"],
        action.get("owner_name") or action.get("owner") or "",
        action.get("due") or "",
        d["file"],
    ]
    return " ".join(parts).lower()


def test_the_report_in_headless_chromium(browser, audit_out, decisions, tmp_path):
    # expect() polls from Python: a polled page function would need eval, which the report's CSP forbids
    expect = pytest.importorskip("playwright.sync_api").expect
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(f"request: {r.url}"))
    page.goto((audit_out / "audit.html").as_uri())
    page.wait_for_load_state("load")

    assert page.locator("#decision-table tbody tr").count() == len(decisions)
    assert _shown(page) == len(decisions)
    assert page.evaluate("window.pwned") is None

    # An outcome filter shows exactly the decisions of that outcome.
    page.select_option("#f-outcome", "warning")
    warnings = sum(d["outcome"] == "warning" for d in decisions)
    assert 0 < warnings < len(decisions)
    assert _shown(page) == warnings
    assert page.inner_text("#shown") == str(warnings)

    # Free text narrows further (AND), matched against what each row shows.
    page.select_option("#f-outcome", "required_action")
    page.fill("#f-text", "x1-")
    expected = sum(d["outcome"] == "required_action" and "x1-" in _row_text(d) for d in decisions)
    assert expected > 0
    expect(page.locator("#shown")).to_have_text(str(expected))
    assert _shown(page) == expected

    # PMO type and rule filters, then clearing shows every row again.
    page.click("#f-reset")
    expect(page.locator("#shown")).to_have_text(str(len(decisions)))
    page.select_option("#f-pmo", "directive")
    page.select_option("#f-rule", "G1")
    assert _shown(page) == sum(d["pmo_type"] == "directive" and d["rule_id"] == "G1" for d in decisions)
    page.click("#f-reset")
    expect(page.locator("#shown")).to_have_text(str(len(decisions)))
    page.screenshot(path=str(tmp_path / "audit-report.png"))

    # A summary tile filters by its outcome.
    page.click("button.tile.o-escalation")
    assert _shown(page) == sum(d["outcome"] == "escalation" for d in decisions)

    # The project filter, then a project link opens that project's page, and only that one.
    mine = [d for d in decisions if d["project"] == "x3-p0"]
    page.click("#f-reset")
    page.select_option("#f-project", "project-x3-p0")
    assert _shown(page) == len(mine)
    assert not page.locator("#project-x3-p0").is_visible()
    page.locator('#decision-table a[href="#project-x3-p0"]').first.click()
    expect(page).to_have_url(re.compile("#project-x3-p0$"))
    assert page.locator("#project-x3-p0").is_visible()
    assert page.locator(".project-page:visible").count() == 1
    assert page.locator("#project-x3-p0 table").last.locator("tbody tr").count() == len(mine)
    assert page.locator("#project-x3-p0 table.actions tbody tr").count() == sum(bool(d["action"]) for d in mine)
    assert "<script>" in page.locator("#project-x3-p0").inner_text()  # shown as text, not run
    page.screenshot(path=str(tmp_path / "project.png"))

    assert not problems, problems
    for shot in ("audit-report.png", "project.png"):
        data = (tmp_path / shot).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    page.close()
