"""Recording reports: new messages, edits, and withdrawals, with the store as the log."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from workflows.ids import ChatId, MessageId, UserId
from workflows.plan import Plan
from workflows.progress import (
    Author,
    MilestoneMark,
    PendingReport,
    Update,
    reached_milestones,
)
from workflows.recognize import APReport, Recognized, recognize, report_on
from workflows.store import Store


@dataclass(frozen=True)
class Report:
    """A chat message as the engine records it."""

    text: str
    author: Author
    chat_id: ChatId
    message_id: MessageId | None
    at: datetime  # when it was written, in local time
    forwarded_from: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What recording a message did.

    kind: "recorded", "changed" (an edit), "withdrawn" (an edit that names
    nothing any more), "duplicate" (already recorded), "nothing" (reports
    nothing), "refused" (see unknown_aps / future_date; nothing stored), or
    "unsure": the message might be a report; nothing is stored, `question` is what to
    ask the author (German, one line), `updates`/`marks` what would be stored (not
    stored: no ids) and `choices` the milestone ids to choose between, if that is the
    question. `pending` is the question as kept in the store (its id goes into the
    buttons); an unclear edit of a recorded message has none. `bad_percent` ("150 %") is a
    percentage written but not stored. "answered": a question already answered.
    """

    kind: str
    updates: tuple[Update, ...] = ()
    marks: tuple[MilestoneMark, ...] = ()
    unknown_aps: tuple[int, ...] = ()
    future_date: date | None = None
    all_reached: tuple[str, ...] = ()
    bad_percent: str | None = None
    question: str | None = None
    choices: tuple[str, ...] = ()
    pending: PendingReport | None = None


def _ap_reports(plan: Plan, rec: Recognized) -> list[APReport]:
    """The APs named, plus the AP of each milestone reached, so its history shows it."""
    reports = list(rec.aps)
    named = {r.ap for r in reports}
    for mid in rec.milestones:
        ms = plan.milestone(mid)
        if ms and ms.ap not in named:
            reports.append(APReport(ms.ap))
            named.add(ms.ap)
    return reports


def _check(rec: Recognized, reached_on: date, today: date) -> Outcome | None:
    if rec.unsure is not None:
        return Outcome("unsure", question=rec.unsure, choices=rec.choices)
    if rec.unknown_aps:
        return Outcome("refused", unknown_aps=rec.unknown_aps)
    if rec.milestones and reached_on > today:
        return Outcome("refused", future_date=reached_on)
    if not rec.aps and not rec.milestones:
        return Outcome("nothing", all_reached=rec.all_reached)
    return None


def _read(store: Store, plan: Plan, report: Report, forced_ap: str | None,
          exclude_message: bool) -> Recognized:
    marks = store.marks()
    if exclude_message:  # an edit re-decides its own milestones
        marks = [m for m in marks
                 if (m.chat_id, m.message_id) != (report.chat_id, report.message_id)]
    rec = recognize(report.text, plan, reached_milestones(marks), report.at.date())
    if forced_ap and all(r.ap != forced_ap for r in rec.aps):
        # /update AP3 …: the command names the AP even when the text does not.
        forced, bad = report_on(forced_ap, report.text)
        rec = replace(rec, aps=(forced, *rec.aps), is_question=False, unsure=None,
                      bad_percent=rec.bad_percent or bad)
    return rec


def _dated(report: Report, rec: Recognized) -> Report:
    """A report about a past day ("am 10.09.2026 …") is recorded on that day, same time."""
    day = rec.reported_on
    if day is None or day >= report.at.date():
        return report
    return replace(report, at=report.at.replace(year=day.year, month=day.month, day=day.day))


def _new_update(report: Report, r: APReport) -> Update:
    return Update(r.ap, report.text, report.author, report.chat_id, report.message_id,
                  report.at, r.state, r.percent, report.forwarded_from)


def _new_mark(report: Report, mid: str, reached_on: date) -> MilestoneMark:
    return MilestoneMark(mid, reached_on, report.author, report.chat_id, report.message_id,
                         report.at)


def record(store: Store, plan: Plan, report: Report, now: datetime,
           forced_ap: str | None = None) -> Outcome:
    """Record a new message; a message already recorded is not recorded again.

    A duplicate (the same message handled again after a restart) carries the records
    it has live, so that its confirmation can be given if it was never sent.
    """
    if report.message_id is not None:
        old_updates = store.updates_of_message(report.chat_id, report.message_id)
        old_marks = store.marks_of_message(report.chat_id, report.message_id)
        if old_updates or old_marks:
            return Outcome("duplicate", tuple(u for u in old_updates if not u.withdrawn),
                           tuple(m for m in old_marks if not m.withdrawn))
    rec = _read(store, plan, report, forced_ap, exclude_message=False)
    reached_on = rec.reached_on or report.at.date()
    if (stop := _check(rec, reached_on, now.date())) is not None:
        if stop.kind == "unsure":  # what would be stored, so that a button can store it
            unsure = replace(stop, updates=tuple(_new_update(_dated(report, rec), r)
                                                 for r in _ap_reports(plan, rec)),
                             marks=tuple(_new_mark(report, mid, reached_on)
                                         for mid in rec.milestones))
            pending = _ask(store, report, unsure, rec.reached_on, now)
            return replace(unsure, pending=pending) if pending else Outcome("nothing")
        return stop
    dated = _dated(report, rec)
    with store.transaction():
        updates = tuple(store.add_update(_new_update(dated, r), now)
                        for r in _ap_reports(plan, rec))
        marks = tuple(store.add_mark(_new_mark(report, mid, reached_on), now)
                      for mid in rec.milestones)
    return Outcome("recorded", updates, marks, all_reached=rec.all_reached,
                   bad_percent=rec.bad_percent)


def _ask(store: Store, report: Report, unsure: Outcome, reached_on: date | None,
         now: datetime) -> PendingReport | None:
    """Keep the question about a message; the same message asked about again (handled
    again after a restart) keeps its question, and gets none once it was answered "no".
    An edit that asks something else asks anew."""
    new = PendingReport(unsure.question or "", report.text, report.author, report.chat_id,
                        report.message_id, report.at, unsure.updates, unsure.marks,
                        unsure.choices, reached_on, report.forwarded_from)
    old = (store.pending_of_message(report.chat_id, report.message_id)
           if report.message_id is not None else None)
    if old is not None:
        if replace(old, answer=None, answered_by=None, id=None) == new:
            return old if old.answer is None else None
        new = replace(new, id=old.id)
    return store.save_pending(new, now)


def settle(store: Store, plan: Plan, pending: PendingReport, choice: str | None,
           by: str, now: datetime) -> Outcome:
    """Answer a question about a message: `choice` None is "no", "save" stores what it would
    have stored, a milestone id (one of its `choices`) marks that one.

    Answered once only ("answered" after); a message recorded meanwhile (an edit made it
    clear) stays as it is ("duplicate"); a milestone reached meanwhile is not marked twice.
    """
    if pending.answer is not None:
        return Outcome("answered")
    if pending.message_id is not None and (
            store.updates_of_message(pending.chat_id, pending.message_id)
            or store.marks_of_message(pending.chat_id, pending.message_id)):
        store.save_pending(replace(pending, answer="no", answered_by=by), now)
        return Outcome("duplicate")
    if choice is None:
        store.save_pending(replace(pending, answer="no", answered_by=by), now)
        return Outcome("nothing")
    updates, marks = list(pending.updates), list(pending.marks)
    if choice != "save":
        ms = plan.milestone(choice)
        if choice not in pending.choices or ms is None:
            return Outcome("nothing")
        on = pending.reached_on or pending.at.date()
        if on > now.date():
            return Outcome("refused", future_date=on)
        marks.append(MilestoneMark(ms.id, on, pending.author, pending.chat_id,
                                   pending.message_id, pending.at))
        if all(u.ap != ms.ap for u in updates):
            updates.append(Update(ms.ap, pending.text, pending.author, pending.chat_id,
                                  pending.message_id, pending.at,
                                  forwarded_from=pending.forwarded_from))
    reached = reached_milestones(store.marks())
    already = tuple(m.milestone for m in marks if m.milestone in reached)
    marks = [m for m in marks if m.milestone not in reached]
    with store.transaction():
        stored_u = tuple(store.add_update(u, now) for u in updates)
        stored_m = tuple(store.add_mark(m, now) for m in marks)
        store.save_pending(replace(pending, answer="saved" if choice == "save" else choice,
                                   answered_by=by), now)
    return Outcome("recorded", stored_u, stored_m, all_reached=already)


def record_edit(store: Store, plan: Plan, report: Report, now: datetime) -> Outcome:
    """Bring the records of an edited message in line with its new text."""
    if report.message_id is None:
        return Outcome("nothing")
    old_updates = store.updates_of_message(report.chat_id, report.message_id)
    old_marks = store.marks_of_message(report.chat_id, report.message_id)
    if not old_updates and not old_marks:
        return record(store, plan, report, now)
    report = replace(report, at=old_updates[0].at if old_updates else old_marks[0].at)
    rec = _read(store, plan, report, None, exclude_message=True)
    reached_on = rec.reached_on or report.at.date()
    stop = _check(rec, reached_on, now.date())
    if stop is not None and stop.kind in ("refused", "unsure"):
        return stop  # an unclear edit changes nothing until it is clear
    with store.transaction():
        return _apply_edit(store, plan, report, rec, reached_on, stop is None,
                           old_updates, old_marks, now)


def _apply_edit(store: Store, plan: Plan, report: Report, rec: Recognized, reached_on: date,
                reports: bool, old_updates: list[Update], old_marks: list[MilestoneMark],
                now: datetime) -> Outcome:
    wanted = {r.ap: r for r in (_ap_reports(plan, rec) if reports else [])}
    updates = []
    for old in old_updates:
        r = wanted.pop(old.ap, None)
        new = (replace(old, text=report.text, state=r.state, percent=r.percent, withdrawn=False)
               if r else replace(old, text=report.text, withdrawn=True))
        if new != old:
            store.save_update(new, now)
        updates.append(new)
    updates += [store.add_update(_new_update(report, r), now) for r in wanted.values()]
    wanted_marks = set(rec.milestones) if reports else set()
    marks = []
    for old_mark in old_marks:
        keep = old_mark.milestone in wanted_marks
        wanted_marks.discard(old_mark.milestone)
        new_mark = replace(old_mark, reached_on=reached_on if keep else old_mark.reached_on,
                           withdrawn=not keep)
        if new_mark != old_mark:
            store.save_mark(new_mark, now)
        marks.append(new_mark)
    marks += [store.add_mark(_new_mark(report, mid, reached_on), now) for mid in wanted_marks]
    live_u = tuple(u for u in updates if not u.withdrawn)
    live_m = tuple(m for m in marks if not m.withdrawn)
    return Outcome("changed" if live_u or live_m else "withdrawn", live_u, live_m)


def last_message_of(store: Store, author_id: UserId, chat_id: ChatId) -> MessageId | None:
    """The message id of the author's newest live record in a chat."""
    newest = last_messages(store, chat_id, author_id, 1)
    return newest[0].message_id if newest else None


@dataclass(frozen=True)
class MessageRecords:
    """The live records of one message: what withdrawing that message takes back."""

    message_id: MessageId
    updates: tuple[Update, ...]
    marks: tuple[MilestoneMark, ...]

    @property
    def first(self) -> Update | MilestoneMark:
        return self.updates[0] if self.updates else self.marks[0]


def last_messages(store: Store, chat_id: ChatId, author_id: UserId | None = None,
                  count: int = 5) -> list[MessageRecords]:
    """The newest `count` messages in a chat with live records (of one author, or of
    anyone), newest first."""
    records: list[Update | MilestoneMark] = [*store.updates(), *store.marks()]
    live = [r for r in records if r.chat_id == chat_id and not r.withdrawn
            and r.message_id is not None and (author_id is None or r.author.id == author_id)]
    live.sort(key=lambda r: (r.at, r.id or 0), reverse=True)
    order: list[MessageId] = []
    for r in live:
        if r.message_id is not None and r.message_id not in order:
            order.append(r.message_id)
    found = []
    for message_id in order[:count]:
        mine = [r for r in live if r.message_id == message_id]
        found.append(MessageRecords(
            message_id, tuple(r for r in mine if isinstance(r, Update)),
            tuple(r for r in mine if isinstance(r, MilestoneMark))))
    return found


def message_authors(store: Store, chat_id: ChatId, message_id: MessageId) -> set[UserId]:
    records: list[Update | MilestoneMark] = [*store.updates_of_message(chat_id, message_id),
                                             *store.marks_of_message(chat_id, message_id)]
    return {r.author.id for r in records}


def withdrawn_by(store: Store, chat_id: ChatId, message_id: MessageId,
                 ) -> tuple[tuple[Update, ...], tuple[MilestoneMark, ...]]:
    """The records that the undo command `message_id` in `chat_id` withdrew."""
    updates = tuple(u for u in store.updates() if u.chat_id == chat_id and u.withdrawn
                    and u.withdrawn_by == message_id)
    marks = tuple(m for m in store.marks() if m.chat_id == chat_id and m.withdrawn
                  and m.withdrawn_by == message_id)
    return updates, marks


def withdraw_message(store: Store, chat_id: ChatId, message_id: MessageId, now: datetime,
                     by: MessageId | None = None,
                     ) -> tuple[tuple[Update, ...], tuple[MilestoneMark, ...]]:
    """Mark every live record of a message withdrawn; they stay in the store for the audit.

    `by` is the message id of the undo command, so that the same command handled twice
    withdraws nothing more the second time.
    """
    updates = tuple(replace(u, withdrawn=True, withdrawn_by=by)
                    for u in store.updates_of_message(chat_id, message_id) if not u.withdrawn)
    marks = tuple(replace(m, withdrawn=True, withdrawn_by=by)
                  for m in store.marks_of_message(chat_id, message_id) if not m.withdrawn)
    with store.transaction():
        for u in updates:
            store.save_update(u, now)
        for m in marks:
            store.save_mark(m, now)
    return updates, marks
