"""Meetings in the chat: agenda items (/top, "TOP:"), minutes while a meeting runs
("Beschluss:", "Aufgabe:", "Info:"), /protokoll, action items (/aufgaben, Erledigt)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.access import is_admin
from bot.messages import (
    Attachment,
    Button,
    ButtonPress,
    Command,
    Context,
    Handler,
    Incoming,
    PressResult,
    Reply,
    local_today,
)
from bot.render.format import day, esc, short_day, trim
from bot.render.report_document import Block, Bullets, Heading, Paragraph, ReportDocument
from bot.render.report_export import render_report
from workflows.ids import UserId
from workflows.minutes import (
    DECISION,
    DONE_REPLY,
    INFO,
    KIND_NAMES,
    TASK,
    TOP_DONE,
    AgendaItem,
    AgendaLine,
    Entry,
    Minutes,
    Parsed,
    Problem,
    Session,
    Sitting,
    agenda_of,
    agenda_target,
    find_sitting,
    held_sittings,
    minutes_of,
    next_occurrence,
    open_tasks,
    owned_by,
    parse_entry,
    prefix_of,
    running_sitting,
    with_done,
)
from workflows.plan import Meeting
from workflows.progress import Author
from workflows.queries import find_meetings, find_work_package, norm

MTG = "mtg"  # button data: mtg:done:<entry id>, mtg:top:<agenda item id>
MAX_BUTTONS = 8  # Telegram shows at most 8 buttons in a row
NOTHING_KEPT = "Ich habe nichts gespeichert."
NO_MEETING = ("Gerade läuft keine Sitzung. /sitzung_start beginnt eine; /beschluss, /aufgabe und "
              "/info nehme ich jederzeit auf.")


def _when(ctx: Context, t: datetime) -> str:
    local = t.astimezone(ctx.settings.timezone)
    return f"{day(local.date())} {local:%H:%M}"


def _ap(ap: str | None) -> str:
    return f" (AP {ap[2:]})" if ap else ""


def _author(msg: Incoming) -> Author:
    return Author(msg.user_id, msg.user_name)


def _ap_ids(ctx: Context) -> set[str]:
    return {wp.id for wp in ctx.plan.work_packages}


def _at(ctx: Context, msg: Incoming, now: datetime) -> datetime:
    return (msg.date or now).astimezone(ctx.settings.timezone)


def _running(ctx: Context, now: datetime) -> Sitting | None:
    return running_sitting(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, now)


def _named_meeting(ctx: Context, text: str) -> Meeting | None:
    found = find_meetings(ctx.plan, norm(text))
    return found[0] if len(found) == 1 else None


def _split_meeting(ctx: Context, text: str) -> tuple[Meeting | None, str]:
    """("Steuerungsgruppe", "Text") from "Steuerungsgruppe: Text"."""
    head, sep, rest = text.partition(":")
    if sep and 0 < len(head.split()) <= 4:
        meeting = _named_meeting(ctx, head)
        if meeting is not None:
            return meeting, rest.strip()
    return None, text


# ---------------------------------------------------------------- lines


def due_text(ctx: Context, e: Entry, today: date) -> str:
    if e.due is None:
        return ""
    late = " ⚠️ überfällig" if e.open and e.due < today else ""
    return f" – bis {day(e.due)}{late}"


def task_line(ctx: Context, e: Entry, today: date, owner: bool = True) -> str:
    who = f"{esc(e.owner or '–')}: " if owner else ""
    done = f" ✅ erledigt {short_day(e.done_at.date())}" if e.done_at else ""
    return (f"• Nr. {e.id} {who}{esc(trim(e.text, 300))}{_ap(e.ap)}"
            f"{due_text(ctx, e, today)}{done}")


def entry_line(e: Entry) -> str:
    return f"• {esc(trim(e.text, 400))}{_ap(e.ap)}"


def agenda_line(ctx: Context, line: AgendaLine, outcome: bool = False) -> str:
    i = line.item
    carried = ""
    if line.carried:
        put_on = i.occurrence.astimezone(ctx.settings.timezone).date()
        carried = f" <i>(vertagt vom {short_day(put_on)})</i>"
    state = ""
    if outcome:
        state = " ✓ besprochen" if line.dealt_here else " → vertagt"
    return (f"{line.number}. {esc(trim(i.text, 300))}{_ap(i.ap)} – {esc(i.author.name)}"
            f"{carried}{state}")


def _done_button(e: Entry) -> tuple[Button, ...]:
    return (Button("Erledigt", f"{MTG}:done:{e.id}"),) if e.open and e.id is not None else ()


def agenda_block(ctx: Context, meeting: Meeting, occurrence: datetime,
                 now: datetime) -> list[str]:
    """The agenda and the action items due by then: what goes on top of a briefing."""
    today = local_today(ctx, now)
    lines = agenda_of(ctx.store.agenda_items(), meeting.id, occurrence)
    out = ["<b>Tagesordnung</b>"]
    out += [agenda_line(ctx, line) for line in lines] or [
        "Noch keine Themen – mit /top Text oder „TOP: Text“ kommt eins dazu."]
    by = occurrence.astimezone(ctx.settings.timezone).date()
    tasks = open_tasks(ctx.store.entries(), by=by)
    if tasks:
        out += ["", "<b>Offene Aufgaben, fällig bis dahin</b>",
                *(task_line(ctx, e, today) for e in tasks)]
    return out


def agenda_buttons(ctx: Context, meeting: Meeting, occurrence: datetime) -> tuple[Button, ...]:
    lines = agenda_of(ctx.store.agenda_items(), meeting.id, occurrence)
    return tuple(Button(f"✓ TOP {line.number}", f"{MTG}:top:{line.item.id}")
                 for line in lines if not line.dealt_here)[:MAX_BUTTONS]


def with_block(text: str, block: list[str]) -> str:
    """`block` after the first line (the heading) of `text`."""
    first, _, rest = text.partition("\n")
    return "\n".join([first, "", *block, *(["", rest.lstrip("\n")] if rest.strip() else [])])


# ---------------------------------------------------------------- agenda items


def _topic_reply(ctx: Context, item: AgendaItem, head: str) -> str:
    lines = agenda_of(ctx.store.agenda_items(), item.meeting, item.occurrence)
    number = next((ln.number for ln in lines if ln.item.id == item.id), len(lines))
    meeting = next((m for m in ctx.plan.meetings if m.id == item.meeting), None)
    title = meeting.title if meeting else item.meeting
    return (f"{head} TOP {number} für {esc(title)} am {_when(ctx, item.occurrence)}: "
            f"{esc(trim(item.text, 300))}{_ap(item.ap)}. Die Tagesordnung zeigt /tagesordnung.")


def add_topic(ctx: Context, msg: Incoming, text: str, now: datetime) -> str:
    """/top Text, /top AP4 Text, /top Steuerungsgruppe: Text, "TOP: Text"."""
    if msg.message_id is not None:  # the same message handled again after a restart
        old = [i for i in ctx.store.agenda_items_of_message(msg.chat_id, msg.message_id)
               if not i.withdrawn]
        if old:
            return _topic_reply(ctx, old[0], "📌")
    meeting, text = _split_meeting(ctx, text)
    parsed = parse_entry("top", text, local_today(ctx, now), _ap_ids(ctx))
    if isinstance(parsed, Problem):
        return parsed.text
    target = agenda_target(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, now, meeting)
    if target is None:
        which = f" „{esc(meeting.title)}“" if meeting else ""
        return (f"Im Plan steht keine kommende Sitzung{which}, auf deren Tagesordnung ich das "
                f"setzen könnte. {NOTHING_KEPT}")
    m, occurrence = target
    item = ctx.store.add_agenda_item(AgendaItem(
        m.id, occurrence, parsed.text, _author(msg), _at(ctx, msg, now), parsed.ap,
        msg.chat_id, msg.message_id), now)
    return _topic_reply(ctx, item, "📌 Auf der Tagesordnung:")


def top_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    if not args.strip():
        return ("Welches Thema? So geht es: /top Haushalt 2027 besprechen, /top AP4 Portal-"
                "Relaunch oder /top Steuerungsgruppe: Leitbild vorstellen.")
    return add_topic(ctx, msg, args, now)


def agenda_sitting(ctx: Context, args: str, now: datetime
                    ) -> tuple[Meeting, datetime] | str:
    meeting = None
    if args.strip():
        meeting = _named_meeting(ctx, args)
        if meeting is None:
            names = ", ".join(m.title for m in ctx.plan.meetings)
            return f"„{esc(args.strip())}“ finde ich nicht unter den Sitzungen ({esc(names)})."
    target = agenda_target(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, now, meeting)
    if target is None:
        return "Im Plan steht keine kommende Sitzung mehr."
    return target


def mark_topics(ctx: Context, numbers: Sequence[int], now: datetime) -> str:
    """TOPs of the running (else the next) meeting dealt with."""
    target = agenda_target(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, now)
    if target is None:
        return "Im Plan steht keine Sitzung, deren Tagesordnung ich abhaken könnte."
    meeting, occurrence = target
    lines = {ln.number: ln for ln in agenda_of(ctx.store.agenda_items(), meeting.id, occurrence)}
    missing = [n for n in numbers if n not in lines]
    if missing:
        return (f"TOP {missing[0]} steht nicht auf der Tagesordnung von {esc(meeting.title)} "
                f"(sie hat {len(lines)} Punkte). {NOTHING_KEPT}")
    with ctx.store.transaction():
        for n in numbers:
            ctx.store.save_agenda_item(replace(lines[n].item, dealt_at=occurrence), now)
    names = ", ".join(f"TOP {n}" for n in numbers)
    return f"✓ {names} besprochen. Was nicht besprochen ist, kommt auf die nächste Tagesordnung."


def dealt_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    numbers = [int(n) for n in re.findall(r"[0-9]{1,2}", args)]
    if not numbers:
        return "Welche Punkte? Zum Beispiel: /besprochen 1 3"
    return mark_topics(ctx, numbers, now)


# ---------------------------------------------------------------- minutes entries


def entry_reply(ctx: Context, e: Entry, msg: Incoming | None, head: str,
                now: datetime) -> Reply:
    today = local_today(ctx, now)
    name = KIND_NAMES[e.kind]
    where = ""
    if e.meeting is not None and e.occurrence is not None:
        meeting = next((m for m in ctx.plan.meetings if m.id == e.meeting), None)
        where = f" ins Protokoll {esc(meeting.title if meeting else e.meeting)}"
    lines = [f"{head} {name} Nr. {e.id}{where}: {esc(trim(e.text, 300))}{_ap(e.ap)}"]
    if e.kind == TASK:
        who = f"Verantwortlich: {esc(e.owner or '–')}"
        if e.due is not None:
            who += f" · bis {day(e.due)}"
        lines.append(who)
    buttons = _done_button(e) if msg is None or not msg.via_console else ()
    if e.kind == TASK and e.due is not None and e.due >= today:
        lines.append("Am Tag der Fälligkeit erinnere ich im Team-Chat daran.")
    return Reply("\n".join(lines), buttons)


def _entry_from(ctx: Context, msg: Incoming, parsed: Parsed, sitting: Sitting | None,
                now: datetime) -> Entry:
    owner, owner_id = parsed.owner, None
    if parsed.kind == TASK and (parsed.owner_is_author or parsed.owner is None):
        owner, owner_id = msg.user_name, msg.user_id
    return Entry(parsed.kind, parsed.text, _author(msg), _at(ctx, msg, now),
                 sitting.meeting.id if sitting else None,
                 sitting.occurrence if sitting else None, parsed.ap, owner, owner_id,
                 parsed.due, msg.chat_id, msg.message_id)


def take_entry(ctx: Context, msg: Incoming, kind: str, rest: str, now: datetime,
               sitting: Sitting | None) -> list[Reply] | str:
    if msg.message_id is not None:  # the same message handled again after a restart
        old = [e for e in ctx.store.entries_of_message(msg.chat_id, msg.message_id)
               if not e.withdrawn]
        if old:
            return [entry_reply(ctx, old[0], msg, "✅", now)]
    parsed = parse_entry(kind, rest, local_today(ctx, now), _ap_ids(ctx))
    if isinstance(parsed, Problem):
        return parsed.text
    entry = ctx.store.add_entry(_entry_from(ctx, msg, parsed, sitting, now), now)
    reply = entry_reply(ctx, entry, msg, "✅", now)
    if kind == TASK and parsed.owner is None and not parsed.owner_is_author:
        reply = replace(reply, text=reply.text + "\n(Niemand genannt – die Aufgabe liegt bei "
                        "Ihnen; „Aufgabe: @name …“ gibt sie jemandem.)")
    if sitting is None:
        reply = replace(reply, text=reply.text + "\n(Gerade läuft keine Sitzung: Das steht in "
                        "keinem Protokoll, aber in /aufgaben und /status.)"
                        if kind == TASK else reply.text + "\n(Gerade läuft keine Sitzung: "
                        "Das steht in keinem Protokoll, aber bei /status und im Sachbericht.)")
    return [reply]


def _entry_command(kind: str) -> Handler:
    def handler(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
        return take_entry(ctx, msg, kind, args, now, _running(ctx, now))
    return handler


# ---------------------------------------------------------------- edits


def on_edit(ctx: Context, msg: Incoming, kind: str | None, rest: str,
            now: datetime) -> list[Reply] | str | None:
    """An edited message that created an agenda item or an entry corrects it; None when
    it created none."""
    if msg.message_id is None:
        return None
    entries = [e for e in ctx.store.entries_of_message(msg.chat_id, msg.message_id)
               if not e.withdrawn]
    items = [i for i in ctx.store.agenda_items_of_message(msg.chat_id, msg.message_id)
             if not i.withdrawn]
    if not entries and not items:
        return None
    today = local_today(ctx, now)
    if items:
        item = items[0]
        if kind != "top":
            ctx.store.save_agenda_item(replace(item, withdrawn=True), now)
            return "✏️ Die geänderte Nachricht ist kein TOP mehr – von der Tagesordnung genommen."
        _, rest = _split_meeting(ctx, rest)
        parsed = parse_entry("top", rest, today, _ap_ids(ctx))
        if isinstance(parsed, Problem):
            return parsed.text.replace(NOTHING_KEPT, "Der TOP bleibt, wie er war.")
        item = ctx.store.save_agenda_item(replace(item, text=parsed.text, ap=parsed.ap), now)
        return _topic_reply(ctx, item, "✏️ geändert:")
    entry = entries[0]
    if kind not in (DECISION, TASK, INFO):
        ctx.store.save_entry(replace(entry, withdrawn=True), now)
        return (f"✏️ Die geänderte Nachricht ist keine Zeile des Protokolls mehr – "
                f"{KIND_NAMES[entry.kind]} Nr. {entry.id} gestrichen.")
    parsed = parse_entry(kind, rest, today, _ap_ids(ctx))
    if isinstance(parsed, Problem):
        return parsed.text.replace(NOTHING_KEPT, f"{KIND_NAMES[entry.kind]} Nr. {entry.id} "
                                                 "bleibt, wie sie war.")
    fresh = _entry_from(ctx, msg, parsed, None, now)
    changed = replace(entry, kind=fresh.kind, text=fresh.text, ap=fresh.ap, owner=fresh.owner,
                      owner_id=fresh.owner_id, due=fresh.due)
    changed = ctx.store.save_entry(changed, now)
    return [entry_reply(ctx, changed, msg, "✏️ geändert:", now)]


# ---------------------------------------------------------------- done


def mark_done(ctx: Context, entry: Entry | None, user_id: UserId, name: str,
              handle: str | None, admin: bool, now: datetime) -> tuple[bool, str]:
    """(done now?, the German answer)."""
    if entry is None or entry.kind != TASK or entry.withdrawn:
        return False, "Diese Aufgabe gibt es nicht (mehr)."
    if entry.done_at is not None:
        return False, (f"Aufgabe Nr. {entry.id} ist schon erledigt (am "
                       f"{short_day(entry.done_at.date())}, {esc(entry.done_by or '')}).")
    if not admin and not owned_by(entry, user_id, name, handle):
        return False, (f"Als erledigt markieren kann nur, wer die Aufgabe hat "
                       f"({esc(entry.owner or '–')}), oder ein Admin.")
    ctx.store.save_entry(with_done(entry, now, name), now)
    return True, f"✅ Aufgabe Nr. {entry.id} erledigt: {esc(trim(entry.text, 200))} ({esc(name)})"


_NUMBER_IN_REPLY = re.compile(r"\bAufgabe\s+Nr\.\s*([0-9]{1,9})\b")


def _task_replied_to(ctx: Context, msg: Incoming, rest: str) -> Entry | str | None:
    """The action item an "erledigt" message means; str: why none; None: not about one."""
    if msg.reply_to_message_id is not None:
        mine = [e for e in ctx.store.entries_of_message(msg.chat_id, msg.reply_to_message_id)
                if e.kind == TASK and not e.withdrawn]
        if mine:
            return mine[0]
    if msg.reply_to_text and (m := _NUMBER_IN_REPLY.search(msg.reply_to_text)):
        return ctx.store.entry(int(m.group(1)))
    words = " ".join(rest.lower().split())
    if len(words) >= 5:
        hits = [e for e in open_tasks(ctx.store.entries()) if words in e.text.lower()]
        if len(hits) == 1:
            return hits[0]
    if msg.reply_to_bot:
        return ("Welche Aufgabe ist erledigt? Antworten Sie auf ihre Bestätigung oder "
                "Erinnerung, oder schreiben Sie /erledigt und die Nummer (/aufgaben zeigt sie).")
    return None


def done_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    ids = re.findall(r"[0-9]{1,9}", args)
    if not ids:
        return "Welche Aufgabe? Zum Beispiel: /erledigt 7 – die Nummern zeigt /aufgaben."
    if msg.edited:
        return ""
    admin = is_admin(ctx, msg.user_id, msg.via_console)
    return "\n".join(mark_done(ctx, ctx.store.entry(int(i)), msg.user_id, msg.user_name,
                               msg.user_handle, admin, now)[1] for i in ids)


# ---------------------------------------------------------------- the chat


def on_text(ctx: Context, msg: Incoming, now: datetime) -> list[Reply] | str | None:
    """A plain message: an agenda item, a line of minutes, an "erledigt", or the edit of
    one of these; None when it is none of them."""
    found = prefix_of(msg.text)
    kind, rest = found if found else (None, "")
    if msg.edited:
        corrected = on_edit(ctx, msg, kind, rest, now)
        if corrected is not None:
            return corrected
    if kind == "top":
        return add_topic(ctx, msg, rest, now)
    if kind is not None:
        sitting = _running(ctx, now)
        if sitting is not None:
            return take_entry(ctx, msg, kind, rest, now, sitting)
        return None  # outside a meeting such a message is read as any other
    if msg.edited:
        return None
    if (m := TOP_DONE.match(msg.text)) and _running(ctx, now) is not None:
        return mark_topics(ctx, [int(n) for n in re.findall(r"[0-9]{1,2}", m.group("nums"))], now)
    if m := DONE_REPLY.match(msg.text):
        task = _task_replied_to(ctx, msg, m.group("rest"))
        if isinstance(task, str) or task is None:
            return task
        admin = is_admin(ctx, msg.user_id, msg.via_console)
        return mark_done(ctx, task, msg.user_id, msg.user_name, msg.user_handle, admin, now)[1]
    return None


def on_edited_command(ctx: Context, msg: Incoming, name: str, args: str,
                      now: datetime) -> list[Reply] | str | None:
    """An edited /top, /beschluss, /aufgabe or /info corrects what it created."""
    kinds = {"top": "top", "beschluss": DECISION, "aufgabe": TASK, "info": INFO}
    if name not in kinds:
        return None
    return on_edit(ctx, msg, kinds[name], args, now)


def on_press(ctx: Context, press: ButtonPress, now: datetime, admin: bool) -> PressResult:
    """mtg:done:<id> (under a confirmation), mtg:done:<id>:l (under a list), mtg:top:<id>."""
    parts = press.data.split(":")
    what, raw = [*parts, "", ""][1:3]
    in_list = parts[3:] == ["l"]
    if (not re.fullmatch(r"[0-9]{1,9}", raw) or what not in ("done", "top")
            or len(parts) > (4 if in_list else 3)):
        return PressResult("Diese Schaltfläche kenne ich nicht (mehr).")
    if what == "top":
        item = ctx.store.agenda_item(int(raw))
        if item is None or item.withdrawn:
            return PressResult("Diesen TOP gibt es nicht mehr.")
        if item.dealt_at is not None:
            return PressResult("Dieser TOP ist schon besprochen.")
        ctx.store.save_agenda_item(replace(item, dealt_at=item_sitting(ctx, item, now)), now)
        return PressResult(f"✓ besprochen: {trim(item.text, 100)}")
    done, text = mark_done(ctx, ctx.store.entry(int(raw)), press.user_id, press.user_name,
                           press.user_handle, admin, now)
    if not done:
        return PressResult(re.sub(r"<[^>]+>", "", text))
    if in_list:  # the list stays as it is; the chat hears who did what
        return PressResult("Erledigt.", posts=((press.chat_id, Reply(text)),))
    return PressResult("Erledigt.", new_text=text)  # the confirmation, now without a button


def item_sitting(ctx: Context, item: AgendaItem, now: datetime) -> datetime:
    """The occurrence an agenda item is dealt with at: the one of its meeting running or
    next (it may have been carried over), else its own."""
    meeting = next((m for m in ctx.plan.meetings if m.id == item.meeting), None)
    target = agenda_target(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, now, meeting)
    return target[1] if target else item.occurrence


# ---------------------------------------------------------------- sittings


def start_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    """/sitzung_start [Sitzung]: minutes are taken from now until /sitzung_ende."""
    if msg.edited:
        return ""
    tz = ctx.settings.timezone
    running = _running(ctx, now)
    if running is not None and running.session is not None and running.session.started:
        return (f"{esc(running.meeting.title)} läuft schon seit "
                f"{_when(ctx, running.start)}. /sitzung_ende beendet sie.")
    meeting = _named_meeting(ctx, args) if args.strip() else None
    if args.strip() and meeting is None:
        names = ", ".join(m.title for m in ctx.plan.meetings)
        return f"„{esc(args.strip())}“ finde ich nicht unter den Sitzungen ({esc(names)})."
    if running is not None and (meeting is None or running.meeting.id == meeting.id):
        meeting, occurrence = running.meeting, running.occurrence
    else:
        if meeting is None:
            found = next_occurrence(ctx.plan, tz, now - timedelta(hours=12))
            meeting = found[0] if found else None
        if meeting is None:
            return "Im Plan steht keine Sitzung, die ich beginnen könnte."
        # Today's occurrence of it, if not over yet; else a sitting of its own from now.
        found = next_occurrence(ctx.plan, tz, now - timedelta(hours=12), meeting)
        occurrence = now
        if found and found[1].astimezone(tz).date() == now.astimezone(tz).date():
            sitting = find_sitting(ctx.plan, ctx.store.sessions(), tz, meeting.id, found[1])
            if sitting is None or sitting.end > now:
                occurrence = found[1]
    old = next((s for s in ctx.store.sessions()
                if s.meeting == meeting.id and s.occurrence == occurrence), None)
    ctx.store.save_session(replace(old, started=now, ended=None) if old
                           else Session(meeting.id, occurrence, now, None), now)
    return (f"▶️ {esc(meeting.title)} beginnt ({_when(ctx, now)}). Was mit „Beschluss:“, "
            "„Aufgabe:“ oder „Info:“ beginnt, nehme ich ins Protokoll; /sitzung_ende beendet "
            "die Sitzung, dann poste ich das Protokoll.")


def end_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    if msg.edited:
        return ""
    running = _running(ctx, now)
    if running is None:
        return "Gerade läuft keine Sitzung, die ich beenden könnte."
    session = running.session or Session(running.meeting.id, running.occurrence)
    ctx.store.save_session(replace(session, ended=now), now)
    return f"⏹ {esc(running.meeting.title)} ist beendet. Das Protokoll poste ich gleich."


# ---------------------------------------------------------------- the minutes


def minutes_for(ctx: Context, sitting: Sitting) -> Minutes:
    return minutes_of(sitting, ctx.store.agenda_items(), ctx.store.entries(), ctx.store.updates())


def minutes_heading(ctx: Context, mins: Minutes) -> str:
    s = mins.sitting
    tz = ctx.settings.timezone
    start, end = s.start.astimezone(tz), s.end.astimezone(tz)
    return (f"{s.meeting.title} – {day(start.date())}, {start:%H:%M}–{end:%H:%M}")


def minutes_sections(ctx: Context, mins: Minutes, today: date) -> list[tuple[str, list[str]]]:
    """(title, lines) of the minutes, in plain text with HTML escapes."""
    sections = []
    if mins.agenda:
        sections.append(("Tagesordnung", [agenda_line(ctx, ln, outcome=True)
                                          for ln in mins.agenda]))
    sections.append(("Beschlüsse", [entry_line(e) for e in mins.decisions] or ["keine"]))
    sections.append(("Aufgaben", [task_line(ctx, e, today) for e in mins.tasks] or ["keine"]))
    if mins.infos:
        sections.append(("Infos", [entry_line(e) for e in mins.infos]))
    if mins.updates:
        sections.append(("Fortschrittsmeldungen während der Sitzung", [
            f"• AP {u.ap[2:]} – {esc(u.author.name)}: {esc(trim(' '.join(u.text.split()), 200))}"
            for u in mins.updates]))
    return sections


def minutes_text(ctx: Context, mins: Minutes, today: date) -> str:
    lines = [f"🧾 <b>Protokoll: {esc(minutes_heading(ctx, mins))}</b>"]
    for title, body in minutes_sections(ctx, mins, today):
        lines += ["", f"<b>{title}</b>", *body]
    open_ones = [ln for ln in mins.agenda if not ln.dealt_here]
    if open_ones:
        lines += ["", "Nicht besprochene Punkte kommen auf die nächste Tagesordnung."]
    return "\n".join(lines)


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&")


def minutes_document(ctx: Context, mins: Minutes, today: date) -> ReportDocument:
    """The minutes in the office files' document model (Word, PDF)."""
    s = mins.sitting
    blocks: list[Block] = []
    for title, body in minutes_sections(ctx, mins, today):
        blocks.append(Heading(title, 1))
        items = [_plain(line).removeprefix("• ") for line in body]
        blocks.append(Bullets(tuple(items)) if body[0].startswith(("•", "1.")) or len(items) > 1
                      else Paragraph(items[0]))
    local = s.start.astimezone(ctx.settings.timezone)
    facts = (("Sitzung", s.meeting.title), ("Datum", f"{day(local.date())}, {local:%H:%M}–"
                                            f"{s.end.astimezone(ctx.settings.timezone):%H:%M}"),
             ("Erstellt", f"von apbot am {short_day(today)} aus dem Team-Chat"))
    return ReportDocument(f"Protokoll {s.meeting.title}", short_day(local.date()), facts,
                          tuple(blocks))


_DATE_ARG = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?")


def protocol_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    """/protokoll [Sitzung] [Datum]: the minutes of a meeting held."""
    tz, today = ctx.settings.timezone, local_today(ctx, now)
    query = args.strip()
    fmt = "docx"
    if re.search(r"\bpdf\s*$", query, re.IGNORECASE):
        fmt, query = "pdf", re.sub(r"\s*\bpdf\s*$", "", query, flags=re.IGNORECASE)
    wanted_day: date | None = None
    if m := _DATE_ARG.search(query):
        year = m.group(3)
        try:
            wanted_day = date((2000 + int(year) if year and len(year) == 2 else
                               int(year) if year else today.year), int(m.group(2)),
                              int(m.group(1)))
        except ValueError:
            return f"„{esc(m.group(0))}“ ist kein gültiges Datum."
        if not year and wanted_day > today:
            wanted_day = wanted_day.replace(year=today.year - 1)
        query = (query[:m.start()] + query[m.end():]).strip()
    elif re.search(r"\bheute\b", query, re.IGNORECASE):
        wanted_day, query = today, re.sub(r"\bheute\b", "", query, flags=re.IGNORECASE).strip()
    elif re.search(r"\bgestern\b", query, re.IGNORECASE):
        wanted_day = today - timedelta(days=1)
        query = re.sub(r"\bgestern\b", "", query, flags=re.IGNORECASE).strip()
    meeting = None
    if query:
        meeting = _named_meeting(ctx, query)
        if meeting is None:
            names = ", ".join(m.title for m in ctx.plan.meetings)
            return (f"„{esc(query)}“ finde ich nicht unter den Sitzungen ({esc(names)}). So geht "
                    "es: /protokoll, /protokoll Steuerungsgruppe, /protokoll 24.11.2026")
    held = [s for s in held_sittings(ctx.plan, ctx.store.meeting_work(), tz, now)
            if (meeting is None or s.meeting.id == meeting.id)
            and (wanted_day is None or s.start.astimezone(tz).date() == wanted_day)]
    if not held:
        what = esc(meeting.title) if meeting else "einer Sitzung"
        when = f" am {day(wanted_day)}" if wanted_day else ""
        return (f"Zu {what}{when} habe ich kein Protokoll – in keiner solchen Sitzung wurde hier "
                "etwas festgehalten. /protokoll ohne Angaben zeigt das letzte.")
    mins = minutes_for(ctx, held[-1])
    text = minutes_text(ctx, mins, today)
    local = held[-1].start.astimezone(tz)
    document = minutes_document(ctx, mins, today)  # built now: rendered in another thread
    name = f"protokoll-{held[-1].meeting.id}-{local:%Y-%m-%d}.{fmt}"
    what = "PDF" if fmt == "pdf" else "Word-Datei"
    return [Reply(text), Reply("", attachment=Attachment(
        name, lambda: render_report(document, fmt), "document",
        f"🧾 Protokoll {esc(minutes_heading(ctx, mins))} als {what}",
        fallback_text=f"Die {what} des Protokolls ließ sich nicht senden."))]


def minutes_post(ctx: Context, meeting_id: str, occurrence: datetime, now: datetime) -> str:
    """The minutes posted at a sitting's end."""
    sitting = find_sitting(ctx.plan, ctx.store.sessions(), ctx.settings.timezone, meeting_id,
                           occurrence)
    if sitting is None:
        raise ValueError(f"no sitting of {meeting_id} at {occurrence}")
    mins = minutes_for(ctx, sitting)
    return (minutes_text(ctx, mins, local_today(ctx, now))
            + "\n\nAls Word-Datei: /protokoll "
            + f"{sitting.start.astimezone(ctx.settings.timezone):%d.%m.%Y}")


def reminder_post(ctx: Context, entry_id: str, now: datetime) -> str:
    """The reminder on the day an action item is due."""
    entry = ctx.store.entry(int(entry_id))
    if entry is None or entry.due is None:
        raise ValueError(f"no action item {entry_id}")
    today = local_today(ctx, now)
    when = "heute" if entry.due == today else f"am {day(entry.due)}"
    return (f"⏰ <b>Aufgabe Nr. {entry.id} ist {when} fällig</b> – {esc(entry.owner or '–')}: "
            f"{esc(trim(entry.text, 300))}{_ap(entry.ap)}\n"
            f"Erledigt? Dann /erledigt {entry.id} oder „erledigt“ als Antwort auf diese "
            "Nachricht.")


# ---------------------------------------------------------------- lists


def tasks_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    """/aufgaben [ich | @name | AP3]: open action items by owner, with due dates."""
    today = local_today(ctx, now)
    tasks = open_tasks(ctx.store.entries())
    query = args.strip()
    head = "Offene Aufgaben"
    if query.lower() in ("ich", "meine", "mir", "mich"):
        tasks = [e for e in tasks if owned_by(e, msg.user_id, msg.user_name, msg.user_handle)]
        head = f"Offene Aufgaben von {esc(msg.user_name)}"
    elif query:
        lookup = find_work_package(ctx.plan, query)
        if lookup.found is not None and re.search(r"\d", query):
            tasks = [e for e in tasks if e.ap == lookup.found.id]
            head = f"Offene Aufgaben zu {esc(lookup.found.label)}"
        else:
            who = query.lower().lstrip("@")
            tasks = [e for e in tasks if (e.owner or "").lower().lstrip("@") == who
                     or (e.owner or "").lower().split()[:1] == [who]]
            head = f"Offene Aufgaben von {esc(query)}"
    if not tasks:
        return f"{head}: keine. 👍 Neue mit /aufgabe @name bis Freitag Text."
    by_owner: dict[str, list[Entry]] = {}
    for e in tasks:
        by_owner.setdefault(e.owner or "–", []).append(e)
    lines = [f"<b>{head}</b> ({len(tasks)})"]
    for owner, mine in by_owner.items():
        lines += ["", f"<b>{esc(owner)}</b>", *(task_line(ctx, e, today, owner=False)
                                                 for e in mine)]
    lines += ["", "Erledigt? Schaltfläche unten, /erledigt Nr. oder „erledigt“ als Antwort."]
    buttons = () if msg.via_console else tuple(
        Button(f"✓ {e.id}", f"{MTG}:done:{e.id}:l") for e in tasks[:MAX_BUTTONS])
    return [Reply("\n".join(lines), buttons)]


def ap_lines(ctx: Context, ap: str, today: date) -> list[str]:
    """An AP's open action items and its decisions, for /status."""
    entries = [e for e in ctx.store.entries() if e.ap == ap and not e.withdrawn]
    tasks = open_tasks(entries)
    decisions = [e for e in entries if e.kind == DECISION][-5:]
    lines: list[str] = []
    if tasks:
        lines += ["", "<b>Offene Aufgaben</b>", *(task_line(ctx, e, today) for e in tasks)]
    if decisions:
        lines += ["", "<b>Beschlüsse</b>", *(
            f"• {short_day(e.at.date())}: {esc(trim(e.text, 300))}" for e in decisions)]
    return lines


COMMANDS = (
    Command("top", top_command, "Thema für die nächste Tagesordnung",
            usage="[AP4 | Sitzung:] Text"),
    Command("besprochen", dealt_command, "TOPs abhaken", usage="1 3"),
    Command("sitzung_start", start_command, "Sitzung beginnen (Protokoll)", usage="[Sitzung]"),
    Command("sitzung_ende", end_command, "Sitzung beenden, Protokoll posten"),
    Command("beschluss", _entry_command(DECISION), "Beschluss ins Protokoll", usage="Text"),
    Command("aufgabe", _entry_command(TASK), "Aufgabe festhalten",
            usage="@name bis 15.12. Text"),
    Command("info", _entry_command(INFO), "Info ins Protokoll", usage="Text"),
    Command("protokoll", protocol_command, "Protokoll einer Sitzung (Word, pdf)",
            usage="[Sitzung] [Datum]"),
    Command("aufgaben", tasks_command, "Offene Aufgaben", usage="[ich | @name | AP3]"),
    Command("erledigt", done_command, "Aufgabe erledigt", usage="Nr."),
)
