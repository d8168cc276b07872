"""Fixtures shared by the test modules: the test plan and a core over a module's store.

A module defines `settings` and `store` to suit itself (its chats, its fixed `now`);
`core` builds on whatever the requesting module defines.
"""

from __future__ import annotations

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
