"""Smoke test of the benchmarks: `python -m bench --quick` runs and prints every row.

It checks the report, not the targets: the quick counts are far too small for that,
and timings depend on the machine. Deselect with `-m "not bench"`.

The latency rows give the median over rounds of the per-round ratio apbot / echo bot,
the lowest and highest round, and the times over all rounds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import QUICK, size_label
from tests.bot_process import REPO

pytestmark = pytest.mark.bench


def expected_rows() -> list[str]:
    sizes = [size_label(n) for n in QUICK.sizes]
    return [
        "Reply latency, `/status`, median (apbot / echo bot)",
        "Reply latency, `/status`, p95 (apbot / echo bot)",
        "Reply latency, progress update, median (apbot / echo bot)",
        "Reply latency, progress update, p95 (apbot / echo bot)",
        f"Team group: {QUICK.group_burst} messages one at a time (apbot)",
        *(f"Recording an update, median, {s} stored" for s in sizes),
        f"Recording growth, {sizes[-1]} / {sizes[0]} (medians)",
        *(f"`/status`, median, {s} stored" for s in sizes),
        f"Start-up to first getUpdates, {sizes[-1]} stored",
        "Start-up to first getUpdates, empty store",
        f"Peak RSS (VmHWM), {sizes[-1]} stored",
        "First `/zeitplan` after start-up, asked at the first getUpdates",
        "First `/zeitplan` after start-up, asked 3 s later",
    ]


def test_quick_run_prints_the_whole_table(tmp_path: Path) -> None:
    raw = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(raw)],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[:2] == ["| Measurement | Measured | Target | Result |", "|---|---|---|---|"]
    table = [line for line in lines[2:] if line.startswith("| ")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    assert [c[0] for c in cells] == expected_rows()
    for measurement, measured, target, result in cells:
        assert measured, measurement
        assert result in ("pass", "**FAIL**", "–"), measurement
        assert (result == "–") == (target == "–"), measurement
    ratio = re.compile(r"\d+\.\d\d× \(rounds \d+\.\d\d–\d+\.\d\d×\); "
                       r"all rounds \d+\.\d ms / \d+\.\d ms")
    for measurement, measured, _, _ in cells[:4]:
        assert ratio.fullmatch(measured), (measurement, measured)
    assert " CPUs (" in done.stdout
    assert f"Python {sys.version.split()[0]}" in done.stdout
    report = json.loads(raw.read_text())
    assert [row["measurement"] for row in report["rows"]] == expected_rows()
    assert set(report["results"]) == {"latency", "growth", "startup", "chart"}
    assert len(report["results"]["chart"]["at_once_s"]) == QUICK.charts
    latency = report["results"]["latency"]
    assert len(latency["rounds"]) == QUICK.rounds
    for rnd in latency["rounds"]:
        for bot in ("apbot", "echo"):
            assert {kind: s["n"] for kind, s in rnd[bot].items()} == {
                "status": QUICK.pairs, "progress": QUICK.pairs}
    assert len(latency["ratios"]["progress"]["median"]) == QUICK.rounds
