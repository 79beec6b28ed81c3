"""One audit of a small generated portfolio, shared by the format tests: twenty projects,
one input that is not valid JSON, and one whose names carry markup and control characters
(untrusted text that every format must carry safely)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio

HOSTILE = '<script>window.pwned = 1</script> & "quoted" \u0001\u000b'
WAIVERS = "waivers:\n  - {rule: C2, project: x0-p0, justification: accepted by the board, approved_by: p-cfo, expires: 2027-06-30}\n"
SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"


def make_inputs(folder: Path) -> Path:
    paths = write_portfolio(folder, 20, seed=1, tasks=12, breaking_share=0.6)
    document = json.loads(paths[3].read_text(encoding="utf-8"))
    for node in document["nodes"]:
        for key in ("name", "title"):
            if key in node:
                node[key] += " " + HOSTILE
    paths[3].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    (folder / "zz-corrupt.json").write_text('{"directed": true,\n "nodes": [\n', encoding="utf-8")
    return folder


def run_audit(inputs: Path, out: Path, *formats: str, waivers: Path | None = None):
    args = ["audit", str(inputs), "--out", str(out), "--jobs", "1", "--quiet"]
    if waivers:
        args += ["--waivers", str(waivers)]
    for fmt in formats:
        args += ["--format", fmt]
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture(scope="session")
def audit_root(tmp_path_factory) -> Path:
    """The folder the audit ran in: inputs are given relative to it, as a user would."""
    root = tmp_path_factory.mktemp("render")
    make_inputs(root / "in")
    (root / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def audit_out(audit_root) -> Path:
    previous = os.getcwd()
    os.chdir(audit_root)
    try:
        result = run_audit(Path("in"), Path("out"), "junit", "sarif", "html", waivers=Path("waivers.yaml"))
    finally:
        os.chdir(previous)
    assert result.exit_code == 3, result.output  # one input failed
    return audit_root / "out"


@pytest.fixture(scope="session")
def decisions(audit_out) -> list[dict]:
    return [json.loads(line) for line in (audit_out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
