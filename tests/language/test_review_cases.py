"""Cases from a review of the designer's tools: each once gave a traceback, passed what should
fail, or disagreed with `govern evaluate`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from governance_engine.cli.main import main

from ..conftest import ROOT

PORTFOLIO = ROOT / "examples" / "portfolio.yaml"


def govern(*args: str):
    return CliRunner().invoke(main, list(args))


def test_explain_sees_what_a_roll_up_counts_and_refuses_an_unknown_rule():
    evaluated = govern("evaluate", str(PORTFOLIO))
    assert "G6     g-prg-platform-2" in evaluated.output and "required_action" in evaluated.output
    explained = govern("explain", str(PORTFOLIO), "--rule", "G6", "--subject", "g-prg-platform-2")
    assert explained.exit_code == 0 and ": fired" in explained.output.splitlines()[0]
    unknown = govern("explain", str(PORTFOLIO), "--rule", "NOPE")
    assert unknown.exit_code == 2 and "no rule 'NOPE' in the packs" in unknown.output


def test_a_parameter_with_a_time_of_day_is_refused_where_it_is_written(tmp_path: Path):
    ruleset = tmp_path / "p.yaml"
    ruleset.write_text(
        "ruleset: p\nversion: '1'\nparameters:\n  cutoff: {default: 2026-08-01 10:00:00, stricter: none}\n"
        "rules:\n  - {id: P9, title: t, applies_to: project, condition: as_of > $cutoff, outcome: warning}\n"
    )
    result = govern("lint", str(ruleset))
    assert "p.yaml:4:21: error: parameters.cutoff.default" in result.output and "has a time of day" in result.output


def test_lint_reads_broken_test_and_waivers_files_without_a_traceback(tmp_path: Path):
    (tmp_path / "m.yaml").write_text(
        "ruleset: m\nversion: '1'\nrules:\n  - {id: ZZ9, title: t, applies_to: project, condition: budget > 1, outcome: warning}\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "m.yaml").write_text("tests: [just a string, {expect: {rule: ZZ9}}]\n")
    linted = govern("lint", str(tmp_path))
    assert linted.exit_code == 0 and "rule ZZ9 has no test case" in linted.output
    (tmp_path / "w.yaml").write_bytes(b"waivers: [caf\xe9]\n")
    waived = govern("lint", str(tmp_path), "--waivers", str(tmp_path / "w.yaml"))
    assert waived.exit_code == 2 and "cannot read the waivers file: it is not UTF-8 text" in waived.output
    (tmp_path / "empty").mkdir()
    empty = govern("lint", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and f"{tmp_path / 'empty'}:" in empty.output and "no pack.yaml" in empty.output


def test_a_rule_test_naming_a_rule_or_subject_that_exists_nowhere_fails(tmp_path: Path):
    (tmp_path / "m.yaml").write_text(
        "ruleset: m\nversion: '1'\nrules:\n  - {id: A1, title: t, applies_to: project, condition: budget > 1, outcome: warning}\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "m.yaml").write_text(
        "packs: [../m.yaml]\ntests:\n  - name: typos\n    pmo_type: controlling\n    as_of: 2026-01-01\n"
        "    state: {nodes: [{id: p1, type: project, budget: 0}]}\n"
        "    absent: [{rule: A-1, subject: p1}, {rule: A1, subject: P1}]\n"
    )
    result = govern("test", str(tmp_path / "tests" / "m.yaml"))
    assert result.exit_code == 1
    assert "no rule 'A-1' in the packs" in result.output and "no node 'P1' in the state" in result.output


def test_scaffolds_load_whatever_names_and_titles_they_are_given(tmp_path: Path):
    for name in ("on", "null", "2026"):
        made = govern(
            "new", "pack", name, "--pmo-type", "controlling", "--extends", "controlling", "--out", str(tmp_path)
        )
        assert made.exit_code == 0, made.output
        assert govern("test", str(tmp_path / name)).exit_code == 0
    module = tmp_path / "m.yaml"
    module.write_text("ruleset: m\nversion: '1'\nparameters: {}\nrules: []\n")
    for rule_id, title in (("Y1", "Budget: over the limit"), ("Y2", "#1 priority")):
        assert govern("new", "rule", rule_id, "--module", str(module), "--title", title).exit_code == 0
    assert "0 errors" in govern("lint", str(module)).output
    assert govern("test", str(tmp_path / "tests" / "m.yaml")).exit_code == 0
    assert 'title: "Budget: over the limit"' in module.read_text()


def test_a_catalogue_needs_a_pack_directory():
    result = govern("catalogue", str(ROOT / "rulesets" / "budget.yaml"), "--check")
    assert result.exit_code == 2 and "give a pack directory or name" in result.output


def test_an_expression_written_over_several_lines_is_located_on_the_line_it_came_from(tmp_path: Path):
    """YAML folds a plain or quoted scalar's lines into one: an error's column is mapped back
    to the line it came from (it used to land past the end of the first line)."""
    head = "ruleset: e\nversion: 1.0.0\nrules:\n"
    broken = tmp_path / "e.yaml"
    broken.write_text(
        head + "  - id: A3\n    title: t\n    applies_to: project\n"
        '    condition: budget > 1 and\n      phase == "execution" and )\n    outcome: warning\n'
    )
    assert f"{broken}:8:32: error: unexpected ')'" in govern("lint", str(broken)).output
    quoted = tmp_path / "q.yaml"
    quoted.write_text(
        head + "  - id: A4\n    title: t\n    applies_to: project\n"
        '    condition: "budget > 1\n      and status == \\"activ\\""\n    outcome: warning\n'
    )
    assert f"{quoted}:8:21: warning: rule A4: 'activ'" in govern("lint", str(quoted)).output
