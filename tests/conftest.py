"""Fixtures shared by the test modules: the test plan and a core over a module's store.

A module defines `settings` and `store` to suit itself (its chats, its fixed `now`);
`core` builds on whatever the requesting module defines.
"""

from __future__ import annotations

from datetime import datetime
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
    moment = config.getoption("--machine-clock")
    if moment:
        import time_machine  # only the time-proof check needs it

        travel = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        travel.start()
        config.add_cleanup(travel.stop)
