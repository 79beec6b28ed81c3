"""report.junit.xml against the Jenkins xUnit plugin's JUnit XSD (vendored), which CI
dashboards read: valid even when the state files' text carries markup and control
characters, with totals that add up."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
import xmlschema

from .conftest import HOSTILE, SCHEMAS


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def test_the_junit_report_is_valid_against_the_xsd(audit_out, schema):
    errors = list(schema.iter_errors(str(audit_out / "report.junit.xml")))
    assert not errors, errors[:3]


def test_the_xsd_rejects_a_test_case_without_a_name(schema):
    assert not schema.is_valid(
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase classname="c"/></testsuite></testsuites>'
    )


def test_untrusted_text_is_carried_safely_and_totals_add_up(audit_root, audit_out):
    text = (audit_out / "report.junit.xml").read_text(encoding="utf-8")
    assert "\u0001" not in text and "\u000b" not in text
    root = ElementTree.fromstring(text.encode("utf-8"))
    failures = [f.text or "" for f in root.iter("failure")]
    assert any("<script>window.pwned = 1</script>" in f for f in failures), "the markup survives as text"
    assert any(HOSTILE.replace("\u0001", "\ufffd").replace("\u000b", "\ufffd") in f for f in failures)
    suites = list(root.iter("testsuite"))
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in suites)
    assert int(root.get("errors")) == 1  # the corrupt input
    assert int(root.get("failures")) == len(
        {c.get("classname") + c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    )
    assert [s.get("name") for s in suites] == sorted(f"in/{p.name}" for p in (audit_root / "in").iterdir())
