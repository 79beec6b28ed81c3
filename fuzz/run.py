"""A bounded fuzzing run: each target in turn, as a libFuzzer subprocess, for a fixed time.
Prints executions per second and coverage per target; exits 1 when a target crashed, hung
or ran out of memory (the input that did it is kept under --artifacts), 2 on bad usage.

    python fuzz/run.py --seconds 30                  # what CI runs
    python fuzz/run.py --seconds 600 --target state --corpus-dir .fuzz-corpus
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ("state", "expression", "ruleset")
# libFuzzer's closing status line, e.g. "#1234 DONE cov: 2510 ft: 7821 corp: 190/30Kb ... exec/s: 41 rss: 210Mb"
STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/.*?exec/s: (\d+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target (default 60)")
    parser.add_argument("--target", action="append", choices=TARGETS, help="a target to run (default: all)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="libFuzzer's memory limit per target")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take before it counts as a hang")
    parser.add_argument("--max-len", type=int, default=16384, help="largest input libFuzzer generates, in bytes")
    parser.add_argument("--corpus-dir", type=Path, help="keep the grown corpus here (one folder per target)")
    parser.add_argument("--artifacts", type=Path, default=Path("fuzz-artifacts"), help="where crashing inputs go")
    args = parser.parse_args(argv)
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    failed = []
    with tempfile.TemporaryDirectory(prefix="governance-fuzz-corpus-") as scratch:
        for target in args.target or TARGETS:
            work = (args.corpus_dir or Path(scratch)) / target
            work.mkdir(parents=True, exist_ok=True)
            if not run_target(target, work, args):
                failed.append(target)
    if failed:
        print(
            f"fuzz: crashed: {', '.join(failed)}; inputs in {args.artifacts}/ (replay: python fuzz/fuzz_TARGET.py FILE)"
        )
        return 1
    return 0


def run_target(target: str, work: Path, args: argparse.Namespace) -> bool:
    """One target for args.seconds; True when it ran to the end without a crash."""
    args.artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        str(work),
        str(HERE / "corpus" / target),
        f"-max_total_time={args.seconds}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-timeout={args.timeout}",
        f"-max_len={args.max_len}",
        f"-artifact_prefix={args.artifacts}/{target}-",
        "-print_final_stats=1",
    ]
    started = time.monotonic()
    result = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", check=False
    )
    elapsed = time.monotonic() - started
    log = result.stdout
    (args.artifacts / f"{target}.log").write_text(log)
    status = [m for line in log.splitlines() if (m := STATUS.match(line.strip()))]
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.MULTILINE))
    runs = int(stats.get("number_of_executed_units", status[-1].group(1) if status else 0))
    rate = stats.get("average_exec_per_sec", status[-1].group(5) if status else "?")
    figures = (
        f"cov {status[-1].group(2)} ft {status[-1].group(3)} corpus {status[-1].group(4)}"
        if status
        else "no status line"
    )
    print(
        f"fuzz {target}: {runs} runs, {rate} exec/s, {figures}, peak rss {stats.get('peak_rss_mb', '?')} MB, "
        f"{elapsed:.0f}s with start-up, exit {result.returncode}"
    )
    if result.returncode != 0:
        lines = [line for line in log.splitlines() if not line.startswith("INFO: Instrumenting")]
        tail = "\n".join(lines[-40:])
        print(f"--- fuzz {target} failed; last lines of {args.artifacts}/{target}.log:\n{tail}")
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
