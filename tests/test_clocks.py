"""Time-proof: the fast tests pass again with the machine's clock at other moments.

Each moment runs the fast tests (not e2e, bench, faults, matrix or this check) in a pytest
of their own with `--machine-clock`, two at a time (tests/conftest.py: time-machine moves
the machine's date and time for the whole run, and lets it run on). The moments are
awkward ones: the autumn hour that repeats, and New Year's Eve 2028 half a minute before
midnight, long after the programme's end.

libfaketime is not used: under it, Python's timed lock waits (threading, queues) never
time out, and with its monotonic clock left alone `time.sleep` fails with EINVAL.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.bot_process import REPO

pytestmark = pytest.mark.clocks

# Two moments, run side by side (one core each): a whole run of the fast tests takes about
# two minutes, and the suite must stay within its time. 01.09.2027 12:00, the date the
# issue names, is the libfaketime test's below.
MOMENTS = [
    "2026-10-25T00:30:00+00:00",  # 02:30 summer time in Berlin, the hour that repeats
    "2028-12-31T22:59:30+00:00",  # 23:59:30 in Berlin, after the programme: the new year
]


def run_at(moment: str) -> subprocess.CompletedProcess[str]:
    """The fast tests in a pytest of their own, the machine's clock at `moment`."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "-m", "not e2e and not bench and not faults and not clocks and not matrix",
         f"--machine-clock={moment}"],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """All moments started at once, two at a time: each run is one process on one core,
    and the suite waits for them anyway."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {moment: pool.submit(run_at, moment) for moment in MOMENTS}


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_fast_tests_pass_with_the_clock_at(
        moment: str, runs: dict[str, Future[subprocess.CompletedProcess[str]]]) -> None:
    done = runs[moment].result()
    tail = "\n".join(done.stdout.splitlines()[-30:])
    assert done.returncode == 0, f"at {moment}:\n{tail}\n{done.stderr[-2000:]}"
    assert " passed" in tail


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_under_libfaketime_the_run_moves_to_time_machine() -> None:
    """`faketime '2027-09-01 12:00:00' python -m pytest …` passes (see conftest.py)."""
    done = subprocess.run(
        ["faketime", "2027-09-01 12:00:00", sys.executable, "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "tests/test_fake_bot_api.py", "tests/test_programme_end.py"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
