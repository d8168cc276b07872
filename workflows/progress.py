"""The progress log: recorded updates, milestone marks, and what follows from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

# The states an AP can be reported in, in the words the team uses.
STATES = ("läuft", "verzögert", "blockiert", "zurückgestellt", "abgeschlossen")


@dataclass(frozen=True, slots=True)
class Author:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Update:
    """One progress report for one work package."""

    ap: str
    text: str
    author: Author
    chat_id: int
    message_id: int | None
    at: datetime
    state: str | None = None
    percent: int | None = None
    forwarded_from: str | None = None
    withdrawn: bool = False
    id: int | None = None  # assigned by the store


@dataclass(frozen=True, slots=True)
class MilestoneMark:
    """A milestone recorded as reached."""

    milestone: str
    reached_on: date
    author: Author
    chat_id: int
    message_id: int | None
    at: datetime
    withdrawn: bool = False
    id: int | None = None


@dataclass(frozen=True)
class APProgress:
    """Where a work package stands according to its updates."""

    state: str | None
    percent: int | None
    last_update: datetime | None
    recent: tuple[Update, ...]  # newest first


def ap_progress(updates: Iterable[Update], recent: int = 5) -> APProgress:
    """Fold an AP's updates (any order) into its current state, progress and latest reports."""
    # Telegram dates messages to the second: the store's id orders reports of one second.
    live = sorted((u for u in updates if not u.withdrawn), key=lambda u: (u.at, u.id or 0),
                  reverse=True)
    stated = next((u for u in live if u.state), None)
    measured = next((u for u in live if u.percent is not None), None)
    state = stated.state if stated else None
    percent = measured.percent if measured else None
    if stated and state == "abgeschlossen" and (measured is None or measured.at < stated.at):
        percent = 100  # "abgeschlossen" after "60 %" means done
    return APProgress(state, percent, live[0].at if live else None, tuple(live[:recent]))


def reached_milestones(marks: Iterable[MilestoneMark]) -> dict[str, date]:
    """Milestone id → the day it was reached, ignoring withdrawn marks."""
    reached: dict[str, date] = {}
    for mark in sorted((m for m in marks if not m.withdrawn), key=lambda m: (m.at, m.id or 0)):
        reached[mark.milestone] = mark.reached_on
    return reached
