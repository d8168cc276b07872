"""Fixtures shared by the test modules: the shipped plan and a core over a module's store.

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

SHIPPED_PLAN = Path(__file__).resolve().parents[1] / "data" / "plan.toml"


@pytest.fixture(scope="session")
def plan() -> Plan:
    """The plan as shipped in data/plan.toml."""
    return load_plan(SHIPPED_PLAN)


@pytest.fixture
def core(settings: Settings, plan: Plan, store: Store) -> Core:
    return Core(Context(settings, plan, store), COMMANDS)
