"""The progress log: recorded updates, milestone marks, and what follows from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from workflows.ids import ChatId, MessageId, UserId

# The states an AP can be reported in, in the words the team uses.
STATES = ("läuft", "verzögert", "blockiert", "zurückgestellt", "abgeschlossen")


@dataclass(frozen=True, slots=True)
class Author:
    id: UserId
    name: str


@dataclass(frozen=True, slots=True)
class Update:
    """One progress report for one work package."""

    ap: str
    text: str
    author: Author
    chat_id: ChatId
    message_id: MessageId | None
    at: datetime
    state: str | None = None
    percent: int | None = None
    forwarded_from: str | None = None
    withdrawn: bool = False
    # the message (same chat) of the /rueckgaengig that did it
    withdrawn_by: MessageId | None = None
    id: int | None = None  # assigned by the store


@dataclass(frozen=True, slots=True)
class MilestoneMark:
    """A milestone recorded as reached."""

    milestone: str
    reached_on: date
    author: Author
    chat_id: ChatId
    message_id: MessageId | None
    at: datetime
    withdrawn: bool = False
    withdrawn_by: MessageId | None = None
    id: int | None = None


@dataclass(frozen=True)
class PendingReport:
    """A message that might be a report, asked about with buttons; nothing of it counts
    until its author or an admin answers.

    `updates` and `marks` are what "Speichern" stores (no ids yet); `choices` are the
    milestone ids to pick from when the question is which milestone is meant (the pick
    is marked on `reached_on`). `answer` is None while open, else "saved", "no" or the
    chosen milestone id.
    """

    question: str
    text: str
    author: Author
    chat_id: ChatId
    message_id: MessageId | None
    at: datetime
    updates: tuple[Update, ...] = ()
    marks: tuple[MilestoneMark, ...] = ()
    choices: tuple[str, ...] = ()
    reached_on: date | None = None
    forwarded_from: str | None = None
    answer: str | None = None
    answered_by: str | None = None  # the name of who answered
    id: int | None = None  # assigned by the store


@dataclass(frozen=True)
class APProgress:
    """Where a work package stands according to its updates."""

    state: str | None
    percent: int | None
    last_update: datetime | None
    recent: tuple[Update, ...]  # newest first


def ap_progress(updates: Iterable[Update], recent: int = 5) -> APProgress:
    """Fold an AP's updates (any order) into its current state, progress and latest reports.

    Telegram dates messages to the second, so the store's id orders reports of one second.
    """
    keyed = [(order_key(u), u) for u in updates if not u.withdrawn]
    keyed.sort(key=_first, reverse=True)
    return latest_progress((u for _, u in keyed), recent)


def latest_progress(newest_first: Iterable[Update], recent: int = 5) -> APProgress:
    """The same fold over updates already ordered newest first (see `order_key`).

    It stops as soon as the state, the percentage and the latest reports are known, so
    an AP with thousands of reports costs about as much as one with ten.
    """
    newest: list[Update] = []
    stated: Update | None = None
    measured: Update | None = None
    done_before_percent = False  # "abgeschlossen" newer than any percentage: 100 %
    for u in newest_first:
        if u.withdrawn:
            continue
        if len(newest) < recent:
            newest.append(u)
        if measured is None and u.percent is not None:
            measured = u
        if stated is None and u.state:
            stated = u
            done_before_percent = u.state == "abgeschlossen" and measured is None
        if stated is not None and measured is not None and len(newest) == recent:
            break
    if not newest:
        return APProgress(None, None, None, ())
    state = stated.state if stated else None
    percent = 100 if done_before_percent else (measured.percent if measured else None)
    return APProgress(state, percent, newest[0].at, tuple(newest))


def order_key(u: Update) -> tuple[float, int]:
    """Newer reports sort later: by when they were written, then by store id."""
    return (u.at.timestamp(), u.id or 0)


def _first(pair: tuple[tuple[float, int], Update]) -> tuple[float, int]:
    return pair[0]


def reached_milestones(marks: Iterable[MilestoneMark]) -> dict[str, date]:
    """Milestone id → the day it was reached, ignoring withdrawn marks."""
    reached: dict[str, date] = {}
    for mark in sorted((m for m in marks if not m.withdrawn), key=lambda m: (m.at, m.id or 0)):
        reached[mark.milestone] = mark.reached_on
    return reached
