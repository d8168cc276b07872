"""The team keeps its plan current in the chat: admins propose, preview, take or drop.

Every change is first shown as a preview (before → after, and what it moves) with the
buttons Übernehmen and Verwerfen, which only the admin who asked may press. Taken, it
is written to the plan file the bot runs on (the shipped plan is copied into the data
directory first), logged with who made it and how to undo it, takes effect at once,
and is announced in the team chat with a Rückgängig button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.access import is_admin, team_chat
from bot.messages import (
    Button,
    ButtonPress,
    Command,
    Context,
    Incoming,
    PressResult,
    Reply,
    local_today,
)
from bot.render.format import esc, short_day
from bot.settings import SHIPPED_PLAN
from workflows.ids import ChatId, UserId
from workflows.plan import Meeting, Milestone, Plan, WorkPackage
from workflows.plan_edit import Edit, PlanEditError, apply_edits, next_milestone_id
from workflows.plan_file import save_plan_text
from workflows.plan_words import WordsError, parse_day, parse_meeting, parse_span
from workflows.quarters import Quarter
from workflows.queries import find_work_package

PLAN = "plan"  # button data: plan:ok:<proposal>, plan:no:<proposal>, plan:undo:<change>
_MILESTONE_ID = re.compile(r"^M(\d{1,3})\.(\d{1,3})$", re.IGNORECASE)


@dataclass(frozen=True)
class Proposal:
    """A change as an admin asked for it: the edits and what they mean, in German."""

    edits: tuple[Edit, ...]
    lines: tuple[str, ...]  # "M3.2 fällig 15.05.2026 statt 30.06.2026"
    notes: tuple[str, ...] = ()  # what it moves, warnings


# -- who may ------------------------------------------------------------------------


def admins_named(ctx: Context) -> str:
    """The admins by the names they report under, as far as the store knows them."""
    names = sorted({u.author.name for u in ctx.store.updates()
                    if u.author.id in ctx.settings.admin_ids})
    return ", ".join(names) if names else "die eingetragenen Admins"


def refused(ctx: Context, msg: Incoming) -> str | None:
    if is_admin(ctx, msg.user_id, msg.via_console):
        return None
    return (f"Den Plan ändern nur die Admins ({esc(admins_named(ctx))}). "
            f"Ich habe nichts geändert.")


# -- reading the arguments ----------------------------------------------------------


def _work_package(ctx: Context, ref: str) -> WorkPackage:
    lookup = find_work_package(ctx.plan, ref)
    if lookup.found is not None:
        return lookup.found
    if lookup.unknown_number is not None:
        raise PlanEditError(f"AP {lookup.unknown_number} gibt es nicht – der Plan hat "
                            f"{ctx.plan.ap_range}.")
    raise PlanEditError(f"Das Arbeitspaket „{ref}“ finde ich nicht; bitte so: AP3.")


def _milestone(ctx: Context, ref: str) -> Milestone:
    m = _MILESTONE_ID.match(ref.strip())
    found = ctx.plan.milestone(f"M{int(m.group(1))}.{int(m.group(2))}") if m else None
    if found is None:
        known = ", ".join(x.id for x in ctx.plan.milestones)
        raise PlanEditError(f"Den Meilenstein „{ref}“ gibt es nicht (im Plan: {known}).")
    return found


def _due_value(text: str, today: date) -> tuple[str, date]:
    """What goes into the file for a due date: the quarter as written, or the day."""
    try:
        quarter = Quarter.parse(text.strip())
    except ValueError:
        day = parse_day(text, today)
        return day.isoformat(), day
    return str(quarter), quarter.last_day


def _span_text(start: Quarter, end: Quarter) -> str:
    return f"{start} – {end}"


# -- the commands -------------------------------------------------------------------


def due_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    ref, _, when = args.strip().partition(" ")
    if not ref or not when.strip():
        return "So geht es: /faellig M3.2 15.05.2026 (oder /faellig M3.2 Q2 2026)."
    ms = _milestone(ctx, ref)
    value, due = _due_value(when, local_today(ctx, now))
    proposal = Proposal(
        (Edit("set", "milestone", ms.id, (("due", value), ("assumed", False))),),
        (f"{ms.id} „{ms.title}“ fällig {short_day(due)} statt {short_day(ms.due)}",),
        _reminder_notes(ctx, ms.id, due, now))
    return propose(ctx, msg, proposal, now)


def span_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    ref, _, span = args.strip().partition(" ")
    if not ref or not span.strip():
        return ("So geht es: /zeitraum AP3 Q2 2025 bis Q4 2026 "
                "(oder /zeitraum AP3 01.03.2025 bis 30.06.2027).")
    wp = _work_package(ctx, ref)
    start, end = parse_span(span, local_today(ctx, now))
    proposal = Proposal(
        (Edit("set", "work_package", wp.id,
              (("start", str(start)), ("end", str(end)), ("assumed", False))),),
        (f"{wp.label} Zeitraum {_span_text(start, end)} statt {_span_text(wp.start, wp.end)}",))
    return propose(ctx, msg, proposal, now)


# A chat member named by handle: a Telegram @name, or a Matrix id (@user:server).
_MEMBER = re.compile(r"@\w{3,}|@[^\s:]+:\S+")


def lead_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    ref, _, lead = args.strip().partition(" ")
    lead = lead.strip()
    member = lead if _MEMBER.fullmatch(lead) else None
    if not lead and msg.reply_to_user:  # as a reply: the person who wrote that message
        lead, member = msg.reply_to_user, msg.reply_to_user_id
    if not ref or not lead:
        return ("So geht es: /zustaendig AP4 Frau Müller (oder @name, oder als Antwort auf "
                "eine Nachricht der Person: /zustaendig AP4).")
    wp = _work_package(ctx, ref)
    before = wp.lead or "noch niemand"
    linked = " (im Chat verknüpft)" if member else ""
    # A lead given by plain name drops an earlier link (None removes the field).
    proposal = Proposal((Edit("set", "work_package", wp.id,
                              (("lead", lead), ("lead_member", member))),),
                        (f"{wp.label} zuständig: {lead}{linked} (bisher: {before})",))
    return propose(ctx, msg, proposal, now)


_NEW_MILESTONE = re.compile(r"^(\S+)\s+(.+?)\s+(?:bis|fällig|faellig|am)\s+(\S.*)$",
                            re.IGNORECASE)


def add_milestone_command(ctx: Context, msg: Incoming, args: str,
                          now: datetime) -> list[Reply] | str:
    m = _NEW_MILESTONE.match(args.strip())
    if not m:
        return "So geht es: /meilenstein AP4 Portal online bis 31.03.2027"
    wp = _work_package(ctx, m.group(1))
    title = m.group(2).strip(" „“\"")
    value, due = _due_value(m.group(3), local_today(ctx, now))
    new_id = next_milestone_id(ctx.plan, wp.id)
    proposal = Proposal(
        (Edit("add", "milestone", new_id, (("ap", wp.id), ("title", title), ("due", value))),),
        (f"neuer Meilenstein {new_id} „{title}“ ({wp.label}), fällig {short_day(due)}",),
        _reminder_notes(ctx, new_id, due, now))
    return propose(ctx, msg, proposal, now)


def remove_milestone_command(ctx: Context, msg: Incoming, args: str,
                             now: datetime) -> list[Reply] | str:
    if not args.strip():
        return "So geht es: /meilenstein_loeschen M4.1"
    ms = _milestone(ctx, args)
    notes: tuple[str, ...] = ()
    reached = [mark for mark in ctx.store.marks() if mark.milestone == ms.id
               and not mark.withdrawn]
    if reached:
        notes = (f"⚠️ {ms.id} ist als erreicht vermerkt (am {short_day(reached[0].reached_on)}). "
                 f"Der Vermerk bleibt im Verlauf, zählt aber für keinen Meilenstein mehr.",)
    proposal = Proposal((Edit("remove", "milestone", ms.id),),
                        (f"Meilenstein {ms.id} „{ms.title}“ (AP {ms.ap[2:]}, "
                         f"fällig {short_day(ms.due)}) entfernen",), notes)
    return propose(ctx, msg, proposal, now)


def _meeting(ctx: Context, name: str) -> Meeting | None:
    """The plan's meeting called `name` (its title, the start of it, or its id)."""
    wanted = name.strip().casefold()
    for meeting in ctx.plan.meetings:
        if wanted in (meeting.id.casefold(), meeting.title.casefold()):
            return meeting
    starting = [m for m in ctx.plan.meetings if m.title.casefold().startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


def _meeting_id(ctx: Context, title: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.casefold().replace("ä", "ae").replace("ö", "oe")
                  .replace("ü", "ue").replace("ß", "ss")).strip("-") or "sitzung"
    taken = {m.id for m in ctx.plan.meetings}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def meeting_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    if not args.strip():
        return ("So geht es: /sitzung Bildungskonferenz am 18.03.2027 14:00 im Rathaus, oder "
                "/sitzung Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00.")
    spec = parse_meeting(args, local_today(ctx, now))
    fields: list[tuple[str, Any]] = [
        ("rrule", spec.rrule), ("dtstart", spec.dtstart.isoformat(timespec="minutes")),
        ("place", spec.place or None), ("assumed", False)]
    if spec.duration is not None:
        fields.append(("duration_minutes", int(spec.duration.total_seconds() // 60)))
    where = f", {spec.place}" if spec.place else ""
    existing = _meeting(ctx, spec.title)
    if existing is not None:
        edit = Edit("set", "meeting", existing.id, tuple(fields))
        line = f"Sitzung „{existing.title}“: {spec.words}{where} (bisher: {existing.rrule}, " \
               f"ab {existing.dtstart:%d.%m.%Y %H:%M})"
    else:
        kind = "steering" if "steuerung" in spec.title.casefold() else "team"
        edit = Edit("add", "meeting", _meeting_id(ctx, spec.title),
                    (("title", spec.title), ("kind", kind), *fields))
        line = f"neue Sitzung „{spec.title}“: {spec.words}{where}"
    return propose(ctx, msg, Proposal((edit,), (line,)), now)


def remove_meeting_command(ctx: Context, msg: Incoming, args: str,
                           now: datetime) -> list[Reply] | str:
    if not args.strip():
        return "So geht es: /sitzung_loeschen Jour fixe"
    meeting = _meeting(ctx, args)
    if meeting is None:
        names = ", ".join(f"„{m.title}“" for m in ctx.plan.meetings) or "keine"
        raise PlanEditError(f"Eine Sitzung „{args.strip()}“ finde ich nicht (im Plan: {names}).")
    return propose(ctx, msg, Proposal((Edit("remove", "meeting", meeting.id),),
                                      (f"Sitzung „{meeting.title}“ entfernen",)), now)


def confirm_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    ref = args.strip()
    if not ref:
        return "So geht es: /bestaetigen AP3, /bestaetigen M3.2 oder /bestaetigen alles."
    plan = ctx.plan
    if ref.lower() in ("alles", "alle", "all"):
        edits = tuple(
            [Edit("set", "work_package", w.id, (("assumed", False),))
             for w in plan.work_packages if w.assumed]
            + [Edit("set", "milestone", m.id, (("assumed", False),))
               for m in plan.milestones if m.assumed]
            + [Edit("set", "meeting", s.id, (("assumed", False),))
               for s in plan.meetings if s.assumed])
        if not edits:
            return "Alle Zeiträume und Termine des Plans sind schon bestätigt."
        line = f"alle Zeiträume und Termine bestätigt ({len(edits)} Einträge)"
    elif _MILESTONE_ID.match(ref):
        ms = _milestone(ctx, ref)
        if not ms.assumed:
            return f"{ms.id} ist schon bestätigt (fällig {short_day(ms.due)})."
        edits = (Edit("set", "milestone", ms.id, (("assumed", False),)),)
        line = f"{ms.id} fällig {short_day(ms.due)} bestätigt"
    else:
        wp = _work_package(ctx, ref)
        if not wp.assumed:
            return f"{wp.label} ist schon bestätigt ({_span_text(wp.start, wp.end)})."
        edits = (Edit("set", "work_package", wp.id, (("assumed", False),)),)
        line = f"{wp.label} Zeitraum {_span_text(wp.start, wp.end)} bestätigt"
    return propose(ctx, msg, Proposal(edits, (line,)), now)


def history_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    changes = ctx.store.plan_changes()
    if not changes:
        return ("Der Plan wurde im Chat noch nicht geändert. Ändern können ihn die Admins, "
                "z. B. mit /faellig M3.2 15.05.2026.")
    tz = ctx.settings.timezone
    lines = [f"<b>Planänderungen</b> (neueste zuerst, {min(len(changes), 30)} von "
             f"{len(changes)})"]
    for change in reversed(changes[-30:]):
        at = datetime.fromisoformat(change["at"]).astimezone(tz)
        what = "; ".join(esc(line) for line in change["lines"])
        undone = " <i>(zurückgenommen)</i>" if change.get("undone_by") else ""
        lines.append(f"• {at:%d.%m.%Y %H:%M} {esc(change['by_name'])}: {what}{undone}")
    return "\n".join(lines)


# -- preview, take, drop, undo ------------------------------------------------------


def _reminder_notes(ctx: Context, milestone_id: str, due: date,
                    now: datetime) -> tuple[str, ...]:
    prog, tz = ctx.plan.programme, ctx.settings.timezone
    days = sorted(due - timedelta(days=n) for n in prog.reminder_days)
    coming = [d for d in days if datetime.combine(d, prog.post_time, tz) > now]
    if not coming:
        return ()
    when = " und ".join(short_day(d) for d in coming)
    return (f"Erinnerungen für {milestone_id} kommen dann am {when}, "
            f"jeweils um {prog.post_time:%H:%M} Uhr.",)


def plan_text(plan: Plan) -> str:
    return plan.source.read_text(encoding="utf-8")


def target_of(ctx: Context) -> Path:
    """The file changes go to: the shipped plan is copied into the data directory first."""
    source = ctx.plan.source
    return ctx.settings.data_dir / "plan.toml" if source == SHIPPED_PLAN else source


def propose(ctx: Context, msg: Incoming, proposal: Proposal, now: datetime) -> list[Reply]:
    """Check the change against the plan as it is, keep it, and show the preview."""
    apply_edits(plan_text(ctx.plan), target_of(ctx), proposal.edits)  # raises if invalid
    proposal_id = ctx.store.propose_plan_change({
        "by": msg.user_id, "by_name": msg.user_name, "chat": msg.chat_id,
        "edits": [e.as_json() for e in proposal.edits], "lines": list(proposal.lines),
    }, now)
    text = "\n".join([
        "📝 <b>Planänderung – Vorschau</b>",
        *(f"• {esc(line)}" for line in proposal.lines),
        *(esc(note) for note in proposal.notes),
        "",
        "Übernehmen? Erst dann gilt sie – für /status, die Erinnerungen und alle Dateien.",
    ])
    buttons = (Button("Übernehmen", f"{PLAN}:ok:{proposal_id}"),
               Button("Verwerfen", f"{PLAN}:no:{proposal_id}"))
    return [Reply(text, buttons)]


def on_press(ctx: Context, press: ButtonPress, now: datetime, admin: bool) -> PressResult:
    _, action, raw_id = [*press.data.split(":"), "", ""][:3]
    if not re.fullmatch(r"[0-9]{1,12}", raw_id) or action not in ("ok", "no", "undo"):
        return PressResult("Diese Schaltfläche kenne ich nicht (mehr).")
    if action == "undo":
        return _undo(ctx, press, int(raw_id), now, admin)
    proposal = ctx.store.plan_proposal(int(raw_id))
    if proposal is None:
        return PressResult("Diese Vorschau ist schon erledigt.")
    if press.user_id != proposal["by"] and not press.via_console:
        return PressResult(f"Übernehmen oder verwerfen kann nur {proposal['by_name']}, "
                           f"die oder der die Änderung angefragt hat.")
    lines = [str(line) for line in proposal["lines"]]
    if action == "no":
        ctx.store.drop_plan_proposal(int(raw_id), now)
        return PressResult("Verworfen.", "🗑️ Verworfen: " + esc("; ".join(lines)))
    edits = tuple(Edit.from_json(raw) for raw in proposal["edits"])
    try:
        plan, change_id = _take(ctx, edits, lines, proposal["by"], proposal["by_name"],
                                now, int(raw_id))
    except PlanEditError as err:
        return PressResult("Geht nicht mehr.", f"⚠️ {esc(str(err))} Der Plan ist unverändert.")
    announcement = Reply(f"🗓️ Plan geändert von {esc(proposal['by_name'])}: "
                         f"{esc('; '.join(lines))}",
                         (Button("Rückgängig", f"{PLAN}:undo:{change_id}"),))
    return PressResult("Übernommen.", "✅ Übernommen: " + esc("; ".join(lines)), plan=plan,
                       posts=_to_team(ctx, press.chat_id, announcement))


def _to_team(ctx: Context, here: ChatId, reply: Reply) -> tuple[tuple[ChatId, Reply], ...]:
    """The announcement goes to the team chat (also when the change was made elsewhere)."""
    team = team_chat(ctx)
    return ((team if team is not None else here, reply),)


def _take(ctx: Context, edits: tuple[Edit, ...], lines: list[str], by: UserId, by_name: str,
          now: datetime, proposal_id: int | None = None) -> tuple[Plan, int]:
    target = target_of(ctx)
    applied = apply_edits(plan_text(ctx.plan), target, edits)
    kept = save_plan_text(target, applied.text, now)
    change_id = ctx.store.record_plan_change({
        "by": by, "by_name": by_name, "lines": lines,
        "edits": [e.as_json() for e in edits], "undo": [e.as_json() for e in applied.undo],
        "version": str(kept) if kept else None,
    }, now, proposal_id)
    return applied.plan, change_id


def _undo(ctx: Context, press: ButtonPress, change_id: int, now: datetime,
          admin: bool) -> PressResult:
    if not admin:
        return PressResult(f"Zurücknehmen können nur die Admins ({admins_named(ctx)}).")
    change = ctx.store.plan_change(change_id)
    if change is None:
        return PressResult("Diese Änderung gibt es nicht.")
    if change.get("undone_by"):
        return PressResult("Diese Änderung ist schon zurückgenommen.")
    lines = [f"Rückgängig: {line}" for line in change["lines"]]
    undo = tuple(Edit.from_json(raw) for raw in change["undo"])
    try:
        plan, undo_id = _take(ctx, undo, lines, press.user_id, press.user_name, now)
    except PlanEditError as err:
        return PressResult("Geht nicht.", f"⚠️ Zurücknehmen geht nicht mehr: {esc(str(err))}")
    ctx.store.mark_plan_change_undone(change_id, undo_id, now)
    text = (f"↩️ Zurückgenommen von {esc(press.user_name)}: "
            f"{esc('; '.join(str(line) for line in change['lines']))}")
    return PressResult("Zurückgenommen.", text, plan=plan)


def guarded(handler: Command) -> Command:
    """Admins only; a change that cannot be made gets its one German sentence."""
    inner = handler.handler

    def run(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
        if (no := refused(ctx, msg)) is not None:
            return no
        if msg.edited:
            return ""
        try:
            return inner(ctx, msg, args, now)
        except (PlanEditError, WordsError) as err:
            return f"{esc(str(err))} Ich habe nichts geändert."
    return Command(handler.name, run, handler.description, handler.aliases, handler.usage,
                   handler.menu)


COMMANDS = (
    guarded(Command("faellig", due_command, "Fälligkeit eines Meilensteins ändern (Admins)",
                    usage="M3.2 15.05.2026")),
    guarded(Command("zeitraum", span_command, "Zeitraum eines Arbeitspakets ändern (Admins)",
                    usage="AP3 Q2 2025 bis Q4 2026")),
    guarded(Command("zustaendig", lead_command, "Zuständigkeit festlegen (Admins)",
                    usage="AP4 Frau Müller")),
    guarded(Command("meilenstein", add_milestone_command, "Meilenstein hinzufügen (Admins)",
                    usage="AP4 Portal online bis 31.03.2027")),
    guarded(Command("meilenstein_loeschen", remove_milestone_command,
                    "Meilenstein entfernen (Admins)", usage="M4.1")),
    guarded(Command("bestaetigen", confirm_command, "Termine als bestätigt markieren (Admins)",
                    usage="AP3 | M3.2 | alles")),
    guarded(Command("sitzung", meeting_command, "Sitzung eintragen oder ändern (Admins)",
                    usage="Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00")),
    guarded(Command("sitzung_loeschen", remove_meeting_command, "Sitzung entfernen (Admins)",
                    usage="Jour fixe")),
    Command("planaenderungen", history_command, "Verlauf der Planänderungen"),
)
