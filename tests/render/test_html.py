"""audit.html: self-contained, escaped, deterministic, and working in a real headless
Chromium (Debian's `chromium`): opens without console errors, filters hide the right rows,
project links open the project's page."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
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


def _data(html: str) -> dict:
    """The decisions and tables the page embeds, as its script reads them."""
    found = re.findall(r'<script type="application/json" id="audit-data">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def _decoded(data: dict) -> list[dict]:
    """The embedded rows turned back into the fields of decisions.jsonl that the page shows."""
    decoded = []
    for row in data["decisions"]:
        rule_id, version, title = data["rules"][row[1]]
        anchor, label, project, file, *_ = data["projects"][row[2]]
        action = row[7] if len(row) > 7 and row[7] else None
        waiver = data["waivers"][row[8]] if len(row) > 8 else None
        decoded.append(
            {
                "outcome": data["outcomes"][row[0]][0],
                "rule_id": rule_id,
                "rule_version": version,
                "title": title,
                "project": project,
                "file": file,
                "pmo_type": data["pmo_types"][row[3]],
                "subject": row[4],
                "subject_type": data["subject_types"][row[5]],
                "message": row[6],
                "action": dict(zip(("text", "due", "owner", "owner_name"), action, strict=True)) if action else None,
                "waiver": dict(zip(("justification", "approved_by", "expires"), waiver, strict=True))
                if waiver
                else None,
            }
        )
    return decoded


def _shown_fields(d: dict) -> dict:
    return {key: d[key] for key in _SHOWN} | {
        "action": {k: d["action"][k] for k in ("text", "due", "owner", "owner_name")} if d.get("action") else None
    }


_SHOWN = (
    "outcome",
    "rule_id",
    "rule_version",
    "title",
    "project",
    "file",
    "pmo_type",
    "subject",
    "subject_type",
    "message",
    "waiver",
)


def test_untrusted_text_is_escaped(html):
    assert "<script>window.pwned" not in html
    # the data block carries it as JSON escapes: no `<`, `>` or `&` at all in there
    assert '\\u003cscript\\u003ewindow.pwned = 1\\u003c/script\\u003e \\u0026 \\"quoted\\" \\u0001\\u000b' in html
    assert not re.search("[<>&]", re.search(r'id="audit-data">(.*?)</script>', html, re.S)[1])
    assert html.count("<script>") == 1  # the report's own
    assert html.lower().count("<script") == html.lower().count("</script") == 2  # and its data block


def test_the_page_is_self_contained_and_its_policy_pins_its_script(html):
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html), "every link stays inside the page"
    assert "<link" not in html and "@import" not in html
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1]
    script = re.search(r"<script>(.*?)</script>", html, re.S)[1]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src &#39;sha256-{digest}&#39;" in policy and "default-src &#39;none&#39;" in policy


def test_the_page_embeds_every_decision_once(html, decisions):
    data = _data(html)
    assert len(data["decisions"]) == len(decisions) == 100
    assert [_shown_fields(d) for d in _decoded(data)] == [_shown_fields(d) for d in decisions]
    anchors = [p[0] for p in data["projects"]]
    assert len(anchors) == len(set(anchors)) == len({(d["file"], d["project"]) for d in decisions})
    assert "project-x0-p0" in anchors
    assert [p[5] for p in data["projects"]] == [
        [
            sum(d["outcome"] == o and (d["file"], d["project"]) == (p[3], p[2]) for d in decisions)
            for o, _ in data["outcomes"]
        ]
        for p in data["projects"]
    ]
    assert sum(d["waiver"] is not None for d in _decoded(data)) == sum(d["waiver"] is not None for d in decisions) > 0
    assert "in/zz-corrupt.json" in html and "not valid JSON" in html
    assert "<strong>1 input could not be evaluated.</strong>" in html
    assert html.count("<tr") < 60, "the decisions are not rendered as rows on the server"


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


PAGE = 12  # rows a page in the browser tests, so that 100 decisions span 9 pages


@pytest.fixture(scope="module")
def paged(audit_out, tmp_path_factory) -> Path:
    """The audit's page drawn with PAGE rows a page."""
    out = tmp_path_factory.mktemp("paged")
    for name in ("report.json", "files.jsonl", "decisions.jsonl"):
        shutil.copy(audit_out / name, out / name)
    return write_html(out, page_size=PAGE)


def _open(browser, path: Path, problems: list[str], fragment: str = ""):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(f"request: {r.url}"))
    page.goto(path.as_uri() + fragment)
    page.wait_for_load_state("load")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("html")).to_have_attribute("data-ready", "true")  # every project's option added
    return page


def _page_rows(page) -> list[int]:
    """The input-order indexes of the decisions on the table's current page."""
    return [
        int(i) for i in page.locator("#decision-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.row)")
    ]


def _all_rows(page, prefix: str = "d") -> list[int]:
    """Every matching decision, page by page from the first with the Next button."""
    if page.is_enabled(f"#{prefix}-first"):
        page.click(f"#{prefix}-first")
    seen = _page_rows(page)
    while page.is_enabled(f"#{prefix}-next"):
        page.click(f"#{prefix}-next")
        seen += _page_rows(page)
    return seen


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


def _project_name(d: dict) -> str:
    """How the project filter names a decision's project: its id (or its file's name for
    subjects outside projects) and its file."""
    label = d["project"] or f"{Path(d['file']).name} (outside projects)"
    return f"{label} ({d['file']})"


def test_the_report_in_headless_chromium(browser, paged, decisions, tmp_path):
    # expect() polls from Python: a polled page function would need eval, which the report's CSP forbids
    expect = pytest.importorskip("playwright.sync_api").expect
    problems: list[str] = []
    page = _open(browser, paged, problems)
    everything = list(range(len(decisions)))
    assert page.evaluate("window.pwned") is None

    # The first page, its counts and its rows, as the data holds them.
    assert page.inner_text("#d-shown") == "100"
    assert page.inner_text("#d-where") == "page 1 of 9 · rows 1–12"
    assert _page_rows(page) == everything[:PAGE]
    assert page.is_disabled("#d-prev") and page.is_disabled("#d-first") and page.is_enabled("#d-next")
    d = decisions[5]
    cells = page.locator("#decision-table tbody tr").nth(5).locator("td").all_inner_texts()
    assert cells[1] == f"{d['rule_id']}@{d['rule_version']}"
    assert cells[2].split("\n") == [d["subject"], d["subject_type"]]
    assert cells[3:6] == [d["project"] or "outside projects", d["pmo_type"], d["message"]]
    assert cells[8] == d["file"]

    # Next, previous, last and first walk the pages; the indicator and the buttons follow.
    page.click("#d-next")
    assert page.inner_text("#d-where") == "page 2 of 9 · rows 13–24"
    assert _page_rows(page) == everything[PAGE : 2 * PAGE]
    assert page.is_enabled("#d-prev")
    page.click("#d-last")
    assert page.inner_text("#d-where") == "page 9 of 9 · rows 97–100"
    assert _page_rows(page) == everything[96:]
    assert page.is_disabled("#d-next") and page.is_disabled("#d-last")
    page.click("#d-prev")
    assert page.inner_text("#d-where") == "page 8 of 9 · rows 85–96"
    page.click("#d-first")
    assert _page_rows(page) == everything[:PAGE]
    assert _all_rows(page) == everything

    # An outcome filter matches across every page, and starts again from the first.
    page.click("#d-prev")
    page.select_option("#f-outcome", "warning")
    warnings = [i for i, d in enumerate(decisions) if d["outcome"] == "warning"]
    assert PAGE < len(warnings) < len(decisions)
    assert page.inner_text("#d-shown") == str(len(warnings))
    assert page.inner_text("#d-where").startswith(f"page 1 of {-(-len(warnings) // PAGE)} · rows 1–")
    assert _all_rows(page) == warnings

    # Free text narrows further (AND), matched against what each row shows, in the data.
    page.select_option("#f-outcome", "required_action")
    page.fill("#f-text", "x1-")
    expected = [i for i, d in enumerate(decisions) if d["outcome"] == "required_action" and "x1-" in _row_text(d)]
    assert expected
    expect(page.locator("#d-shown")).to_have_text(str(len(expected)))
    assert _all_rows(page) == expected
    # ... on its own too, case-insensitively, over messages, owners and files
    page.select_option("#f-outcome", "")
    for needle in ("Person X1-", "quoted", "in/project-0000", "waived", "outside projects"):
        page.fill("#f-text", needle)
        expected = [i for i, d in enumerate(decisions) if needle.lower() in _row_text(d)]
        assert expected, needle
        expect(page.locator("#d-shown")).to_have_text(str(len(expected)))
        assert _all_rows(page) == expected, needle
    page.fill("#f-text", "no such text anywhere")
    expect(page.locator("#d-shown")).to_have_text("0")
    assert page.is_visible("#no-match") and _page_rows(page) == []
    assert page.inner_text("#d-where") == "page 1 of 1"

    # PMO type and rule filters, then clearing shows every row again.
    page.click("#f-reset")
    expect(page.locator("#d-shown")).to_have_text(str(len(decisions)))
    assert page.is_hidden("#no-match")
    page.select_option("#f-pmo", "directive")
    page.select_option("#f-rule", "G1")
    assert _all_rows(page) == [
        i for i, d in enumerate(decisions) if d["pmo_type"] == "directive" and d["rule_id"] == "G1"
    ]
    page.select_option("#f-rule", "")
    assert _all_rows(page) == [i for i, d in enumerate(decisions) if d["pmo_type"] == "directive"]
    page.click("#f-reset")
    expect(page.locator("#d-shown")).to_have_text(str(len(decisions)))
    page.screenshot(path=str(tmp_path / "audit-report.png"))

    # A summary tile filters by its outcome.
    page.click("button.tile.o-escalation")
    assert _all_rows(page) == [i for i, d in enumerate(decisions) if d["outcome"] == "escalation"]

    # The project filter is a box to type in: every project of every file is a suggestion, a
    # suggestion keeps that project's decisions, other text every project whose name
    # contains it (case aside). Then a project link opens that project's page, and only that one.
    mine = [d for d in decisions if d["project"] == "x3-p0"]
    page.click("#f-reset")
    suggestions = page.locator("#f-project-list option").evaluate_all("options => options.map(o => o.value)")
    assert sorted(suggestions) == sorted({_project_name(d) for d in decisions})
    page.fill("#f-project", _project_name(mine[0]))
    expect(page.locator("#d-shown")).to_have_text(str(len(mine)))
    assert _all_rows(page) == [i for i, d in enumerate(decisions) if d["project"] == "x3-p0"]
    for typed, some in (("X3-", True), ("outside projects", True), (".json)", False)):
        page.fill("#f-project", typed)
        expected = [i for i, d in enumerate(decisions) if typed.lower() in _project_name(d).lower()]
        assert expected and (len(expected) < len(decisions)) == some, typed
        expect(page.locator("#d-shown")).to_have_text(str(len(expected)))
        assert _all_rows(page) == expected, typed
    page.fill("#f-project", _project_name(mine[0]))
    expect(page.locator("#d-shown")).to_have_text(str(len(mine)))
    assert page.is_hidden("#selected-project")
    page.locator('#decision-table a[href="#project-x3-p0"]').first.click()
    expect(page).to_have_url(re.compile("#project-x3-p0$"))
    expect(page.locator("#selected-project")).to_be_visible()
    assert page.get_attribute("#selected-project", "data-project") == "project-x3-p0"
    assert page.inner_text("#sp-title") == "x3-p0"
    assert page.locator("#sp-decisions tbody tr").count() == len(mine)
    actions = sorted(
        (d for d in mine if d["action"]), key=lambda d: (d["action"]["due"] or "", d["rule_id"], d["subject"])
    )
    assert actions
    assert page.locator("#selected-project table.actions tbody tr").count() == len(actions)
    assert page.locator("#selected-project table.actions tbody tr td:nth-child(3)").all_inner_texts() == [
        d["action"]["text"] for d in actions
    ]
    assert "<script>" in page.locator("#selected-project").inner_text()  # shown as text, not run
    page.screenshot(path=str(tmp_path / "project.png"))

    # Back to all projects: the project's page closes; the projects table pages too.
    page.click("#selected-project .crumbs a")
    expect(page.locator("#selected-project")).to_be_hidden()
    anchors = [p[0] for p in _data(paged.read_text(encoding="utf-8"))["projects"]]
    assert page.inner_text("#p-shown") == str(len(anchors)) and len(anchors) > PAGE
    seen = [page.locator("#project-table tbody th a").all_inner_texts()]
    while page.is_enabled("#p-next"):
        page.click("#p-next")
        seen.append(page.locator("#project-table tbody th a").all_inner_texts())
    assert [len(s) for s in seen[:-1]] == [PAGE] * (len(seen) - 1) and sum(map(len, seen)) == len(anchors)
    page.fill("#p-text", "x3-")
    expect(page.locator("#p-shown")).to_have_text("1")
    page.locator("#project-table tbody th a").first.click()
    expect(page.locator("#selected-project")).to_be_visible()
    assert page.inner_text("#sp-title") == "x3-p0"

    # A project's address opens its page directly.
    deep = _open(browser, paged, problems, "#project-x3-p0")
    expect(deep.locator("#selected-project")).to_be_visible()
    assert deep.locator("#sp-decisions tbody tr").count() == len(mine)
    deep.close()

    assert not problems, problems
    for shot in ("audit-report.png", "project.png"):
        data = (tmp_path / shot).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    page.close()


def test_the_cli_page_in_headless_chromium(browser, audit_out, decisions):
    """The page `govern audit --format html` wrote: every decision on its one page."""
    problems: list[str] = []
    page = _open(browser, audit_out / "audit.html", problems)
    assert _page_rows(page) == list(range(len(decisions)))
    assert page.inner_text("#d-where") == "page 1 of 1 · rows 1–100"
    assert page.is_disabled("#d-next") and page.is_disabled("#d-prev")
    assert page.evaluate("window.pwned") is None
    assert not problems, problems
    page.close()


HOSTILE_MESSAGES = [
    "</script><script>window.pwned = 2</script>",
    "</SCRIPT ><img src=x onerror=window.pwned=3>",
    "<!--<script>window.pwned = 4//-->",
    "]]></x> & &amp; &lt;b&gt; \u2028\u2029 end",
    "a lone surrogate \ud800 and an astral \U0001f600",
]


def test_hostile_text_cannot_break_out_of_the_data(audit_out, browser, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.json", "files.jsonl"):
        shutil.copy(audit_out / name, out / name)
    lines = (audit_out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    hostile = []
    for i, message in enumerate(HOSTILE_MESSAGES):
        d = json.loads(lines[i])
        d["message"] = d["subject"] = message
        d["action"] = {"text": message, "due": "2026-12-01", "owner": message, "owner_name": None}
        lines[i] = json.dumps(d)
        hostile.append(d)
    (out / "decisions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    html = write_html(out, page_size=PAGE).read_text(encoding="utf-8")

    assert html.lower().count("</script") == 2 and "<!--" not in html and "\u2028" not in html
    assert "onerror" in html and "<img" not in html
    data = _data(html)
    assert [d["message"] for d in _decoded(data)[: len(hostile)]] == HOSTILE_MESSAGES
    assert [d["action"]["owner"] for d in _decoded(data)[: len(hostile)]] == HOSTILE_MESSAGES

    problems: list[str] = []
    page = _open(browser, out / "audit.html", problems)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#decision-table img").count() == 0
    cells = page.locator("#decision-table tbody tr td.message")
    for i, message in enumerate(HOSTILE_MESSAGES[:4]):
        assert cells.nth(i).evaluate("td => td.textContent") == message
    assert cells.nth(4).evaluate("td => td.textContent.endsWith('astral \\u{1f600}')")
    expect = pytest.importorskip("playwright.sync_api").expect
    for row, needle in enumerate(("pwned = 2</script>", "<img src=x onerror", "<!--<script>window.pwned = 4")):
        page.fill("#f-text", needle)
        expect(page.locator("#d-shown")).to_have_text("1")
        assert _page_rows(page) == [row]
    assert page.evaluate("window.pwned") is None
    assert not problems, problems
    page.close()


def test_an_audit_without_decisions(audit_out, browser, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.json", "files.jsonl"):
        shutil.copy(audit_out / name, out / name)
    (out / "decisions.jsonl").write_text("", encoding="utf-8")
    data = _data(write_html(out).read_text(encoding="utf-8"))
    assert data["decisions"] == [] and data["projects"] == []

    problems: list[str] = []
    page = _open(browser, out / "audit.html", problems)
    assert page.inner_text("#d-shown") == "0" and page.inner_text("#p-shown") == "0"
    assert page.inner_text("#d-where") == "page 1 of 1"
    assert page.is_visible("#no-match") and page.is_disabled("#d-next")
    assert not problems, problems
    page.close()
