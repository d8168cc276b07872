"""Fixtures shared by the test modules: the test plan and a core over a module's store.

A module defines `settings` and `store` to suit itself (its chats, its fixed `now`);
`core` builds on whatever the requesting module defines.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands import COMMANDS
from bot.core import Core
from bot.messages import Context
from bot.settings import Settings
from workflows.plan import Plan, load_plan
from workflows.store import Store

# The tests' own plan: the team may change the shipped data/plan.toml without breaking them.
TEST_PLAN = Path(__file__).resolve().parent / "fixtures" / "plan.toml"


@pytest.fixture(scope="session")
def plan() -> Plan:
    """The test plan (tests/fixtures/plan.toml)."""
    return load_plan(TEST_PLAN)


@pytest.fixture
def core(settings: Settings, plan: Plan, store: Store) -> Core:
    return Core(Context(settings, plan, store), COMMANDS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--machine-clock", metavar="ISO", default=None,
                     help="run the tests as if the machine's clock showed this instant "
                          "(e.g. 2027-09-01T12:00:00+00:00); it runs on from there")


def pytest_configure(config: pytest.Config) -> None:
    if "faketime" in os.environ.get("LD_PRELOAD", ""):
        _again_without_libfaketime(config)
    moment = config.getoption("--machine-clock")
    if moment:
        import time_machine  # only the time-proof check needs it

        travel = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        travel.start()
        config.add_cleanup(travel.stop)


def _again_without_libfaketime(config: pytest.Config) -> None:
    """`faketime '2027-09-01 12:00:00' python -m pytest`: the same run, at the same moment.

    Under libfaketime, Python's timed lock waits never time out (its faked monotonic
    clock is not applied to them), so threads, queues and the fake Bot API would hang.
    The run starts again without it, with the machine's clock moved to the moment
    libfaketime shows (time-machine, see --machine-clock), and the bot processes the
    tests start run at their own fixed dates anyway.
    """
    moment = datetime.now(UTC)  # as libfaketime shows it
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    args = [a for a in config.invocation_params.args if not a.startswith("--machine-clock")]
    os.chdir(config.invocation_params.dir)
    os.execve(sys.executable, [sys.executable, "-m", "pytest", *args,
                               f"--machine-clock={moment.isoformat()}"], env)
