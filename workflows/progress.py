"""The progress log: recorded updates, milestone marks, and what follows from them."""

from __future__ import annotations

import heapq
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
    """Fold an AP's updates (any order) into its current state, progress and latest reports.

    One pass, no full sort: an AP can have thousands of reports and /status must stay fast.
    Telegram dates messages to the second, so the store's id orders reports of one second.
    """
    keyed = [((u.at.timestamp(), u.id or 0), u) for u in updates if not u.withdrawn]
    if not keyed:
        return APProgress(None, None, None, ())
    stated = max(((k, u) for k, u in keyed if u.state), key=_first, default=None)
    measured = max(((k, u) for k, u in keyed if u.percent is not None), key=_first,
                   default=None)
    newest = [u for _, u in heapq.nlargest(recent, keyed, key=_first)]
    state = stated[1].state if stated else None
    percent = measured[1].percent if measured else None
    if stated and state == "abgeschlossen" and (measured is None or measured[0] < stated[0]):
        percent = 100  # "abgeschlossen" after "60 %" means done
    return APProgress(state, percent, max(keyed, key=_first)[1].at, tuple(newest))


def _first(pair: tuple[tuple[float, int], Update]) -> tuple[float, int]:
    return pair[0]


def reached_milestones(marks: Iterable[MilestoneMark]) -> dict[str, date]:
    """Milestone id → the day it was reached, ignoring withdrawn marks."""
    reached: dict[str, date] = {}
    for mark in sorted((m for m in marks if not m.withdrawn), key=lambda m: (m.at, m.id or 0)):
        reached[mark.milestone] = mark.reached_on
    return reached
