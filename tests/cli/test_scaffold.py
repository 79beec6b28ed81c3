"""govern new rule|pack: what it writes is valid, lint-clean and passes its own tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from governance_engine.cli.main import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_new_pack_extends_its_parent_and_passes_its_tests(tmp_path: Path):
    result = run(
        "new", "pack", "dept-it", "--extends", "controlling", "--pmo-type", "controlling", "--out", str(tmp_path)
    )
    assert result.exit_code == 0
    pack = tmp_path / "dept-it"
    assert "extends: controlling" in (pack / "pack.yaml").read_text()
    tested = run("test", str(pack))
    assert tested.exit_code == 0 and tested.output.splitlines()[-1] == "2 passed, 0 failed"
    linted = run("lint", str(pack))
    assert linted.exit_code == 0 and linted.output.splitlines()[-1] == "0 errors, 0 warnings, 0 notes"


def test_new_rules_are_added_to_a_module_with_their_cases(tmp_path: Path):
    module = tmp_path / "rules" / "finance.yaml"
    assert run("new", "rule", "F1", "--module", str(module)).exit_code == 0
    assert run("new", "rule", "F2", "--module", str(module), "--title", "Second").exit_code == 0
    text = module.read_text()
    assert text.count("  - id: F") == 2 and "f1_limit:" in text and "f2_limit:" in text
    tested = run("test", str(tmp_path / "rules"))
    assert tested.exit_code == 0 and tested.output.splitlines()[-1] == "4 passed, 0 failed"
    again = CliRunner().invoke(main, ["new", "rule", "F1", "--module", str(module)])
    assert again.exit_code == 2 and "already has a rule F1" in again.output
