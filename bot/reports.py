"""Progress reports in the chat: recording messages and edits, /update, undo, /verlauf."""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.access import is_admin
from bot.messages import (
    Button,
    ButtonPress,
    Command,
    Context,
    Incoming,
    PressResult,
    Reply,
)
from bot.render.format import esc, short_day, trim
from workflows.ids import MessageId
from workflows.plan import WorkPackage
from workflows.progress import Author, MilestoneMark, PendingReport, Update
from workflows.queries import find_work_package, fold
from workflows.recording import (
    MessageRecords,
    Outcome,
    Report,
    last_message_of,
    last_messages,
    message_authors,
    record,
    record_edit,
    settle,
    withdraw_message,
    withdrawn_by,
)

UNDO = "undo"
ASK = "ask"  # button data: ask:<question>:s (Speichern), :n (Nein), :<i> (the i-th choice)
HISTORY_DEFAULT, HISTORY_MAX = 10, 50


def report_of(ctx: Context, msg: Incoming, now: datetime, text: str | None = None) -> Report:
    at = (msg.date or now).astimezone(ctx.settings.timezone)
    return Report(text if text is not None else msg.text, Author(msg.user_id, msg.user_name),
                  msg.chat_id, msg.message_id, at, msg.forwarded_from)


def update_line(u: Update) -> str:
    facts = [f"Stand: {u.state}"] if u.state else []
    if u.percent is not None:
        facts.append(f"{u.percent} %")
    wp = f"AP {u.ap[2:]}"
    return " · ".join([wp, *facts])


def mark_line(ctx: Context, m: MilestoneMark) -> str:
    ms = ctx.plan.milestone(m.milestone)
    if ms is None:  # the plan changed since; the record stays
        return f"🏁 {esc(m.milestone)} erreicht am {short_day(m.reached_on)}"
    siblings = [x for x in ctx.plan.milestones if x.title == ms.title]
    which = (f" – von {len(siblings)} gleichnamigen der, der am {short_day(ms.due)} fällig war"
             if len(siblings) > 1 else "")
    return (f"🏁 Meilenstein {esc(ms.id)} „{esc(ms.title)}“ (AP {ms.ap[2:]}) als erreicht "
            f"vermerkt am {short_day(m.reached_on)}{which}")


def refusal(ctx: Context, outcome: Outcome) -> str:
    if outcome.unknown_aps:
        names = " und ".join(f"AP {n}" for n in outcome.unknown_aps)
        return (f"{names} gibt es nicht – der Plan hat {ctx.plan.ap_range}. "
                f"Ich habe nichts gespeichert.")
    assert outcome.future_date is not None
    return (f"Der {short_day(outcome.future_date)} liegt in der Zukunft – einen Meilenstein "
            f"vermerke ich erst, wenn er erreicht ist. Ich habe nichts gespeichert.")


def confirmation(ctx: Context, outcome: Outcome, msg: Incoming, head: str) -> list[Reply]:
    """The reply to a recorded (or changed) report, with the undo button."""
    written = msg.date.astimezone(ctx.settings.timezone).date() if msg.date else None
    return [confirmation_reply(ctx, outcome, head, msg.message_id, msg.forwarded_from,
                               undo=not msg.via_console, written_on=written)]


def confirmation_reply(ctx: Context, outcome: Outcome, head: str,
                       message_id: MessageId | None,
                       forwarded_from: str | None, undo: bool,
                       written_on: date | None = None) -> Reply:
    lines = [f"{head} {update_line(u)}" for u in outcome.updates]
    # A report about a past day ("am 10.09.2026 …") counts for that day: say so.
    dated = sorted({u.at.date() for u in outcome.updates} - {written_on}) if written_on else []
    lines += [f"📅 gilt für den {short_day(day)}, wie in der Nachricht geschrieben"
              for day in dated]
    lines += [mark_line(ctx, m) for m in outcome.marks]
    if forwarded_from:
        lines.append(f"(weitergeleitet, ursprünglich von {esc(forwarded_from)})")
    lines += [all_reached_line(ctx, mid) for mid in outcome.all_reached]
    if outcome.bad_percent:
        lines.append(f"ℹ️ „{esc(outcome.bad_percent)}“ habe ich nicht als Stand übernommen – "
                     f"ein Stand liegt zwischen 0 und 100 %.")
    buttons = (Button("Rückgängig", f"{UNDO}:{message_id}"),) \
        if message_id is not None and undo else ()
    return Reply("\n".join(lines), buttons)


def all_reached_line(ctx: Context, milestone_id: str) -> str:
    """For a milestone named again although it (and every one of its title) is reached."""
    ms = ctx.plan.milestone(milestone_id)
    if ms is None:
        return f"ℹ️ {esc(milestone_id)} ist schon als erreicht vermerkt."
    siblings = [m for m in ctx.plan.milestones if m.title == ms.title]
    if len(siblings) > 1:
        return (f"ℹ️ Alle {len(siblings)} Meilensteine „{esc(ms.title)}“ sind schon als erreicht "
                f"vermerkt (siehe /verlauf AP{ms.ap[2:]}).")
    return f"ℹ️ {esc(ms.id)} „{esc(ms.title)}“ ist schon als erreicht vermerkt."


def unsure_text(outcome: Outcome, edited: bool = False) -> str:
    """What to write so that a message counts, when no question with buttons is kept for
    it (an unclear edit of a recorded message: its records stay as they were)."""
    question = esc(outcome.question or "")
    if outcome.choices:
        how = f"Wenn ja: bitte so schreiben: „Meilenstein {esc(outcome.choices[0])} erreicht“."
    else:
        ap = f"AP{outcome.updates[0].ap[2:]}" if outcome.updates else "AP3"
        how = f"Wenn ja: bitte noch einmal als Meldung schreiben, so: „{ap}: …“."
    kept = "Die bisherige Meldung bleibt, wie sie war." if edited else \
        "Ich habe nichts gespeichert."
    return f"{question} {how} {kept}"


def _choice_label(ctx: Context, milestone_id: str) -> str:
    ms = ctx.plan.milestone(milestone_id)
    return f"{milestone_id} (fällig {short_day(ms.due)})" if ms else milestone_id


def question_reply(ctx: Context, pending: PendingReport) -> Reply:
    """The question about a message that might be a report, with its answer buttons.

    Nothing is stored until the author or an admin answers; unanswered, nothing ever is.
    """
    ask = f"{ASK}:{pending.id}"
    if pending.choices:
        names = [_choice_label(ctx, mid) for mid in pending.choices]
        ms = ctx.plan.milestone(pending.choices[0])
        title = f" „{esc(ms.title)}“" if ms else ""
        text = (f"🤔 Welcher Meilenstein{title} ist erreicht: "
                f"{esc(', '.join(names[:-1]))} oder {esc(names[-1])}?")
        buttons = (*(Button(mid, f"{ask}:{i}") for i, mid in enumerate(pending.choices)),
                   Button("Keiner", f"{ask}:n"))
    else:
        text = f"🤔 {esc(pending.question)}"
        buttons = (Button("Speichern", f"{ask}:s"), Button("Nein", f"{ask}:n"))
    return Reply(f"{text}\nBis zur Antwort ist nichts gespeichert – antworten kann "
                 f"{esc(pending.author.name)} oder ein Admin.", buttons)


def _on_question(ctx: Context, press: ButtonPress, now: datetime, admin: bool) -> PressResult:
    _, raw_id, raw_choice = [*press.data.split(":"), "", ""][:3]
    if not re.fullmatch(r"[0-9]{1,12}", raw_id):
        return PressResult("Diese Schaltfläche kenne ich nicht (mehr).")
    pending = ctx.store.pending(int(raw_id))
    if pending is None:
        return PressResult("Diese Frage gibt es nicht mehr.")
    if pending.answer is not None:
        return PressResult("Diese Frage ist schon beantwortet.")
    if press.user_id != pending.author.id and not admin:
        return PressResult("Antworten kann nur, wer die Nachricht geschrieben hat, "
                           "oder ein Admin.")
    choice: str | None
    if raw_choice == "n":
        choice = None
    elif raw_choice == "s" and not pending.choices:
        choice = "save"
    elif re.fullmatch(r"[0-9]{1,2}", raw_choice) and int(raw_choice) < len(pending.choices):
        choice = pending.choices[int(raw_choice)]
    else:
        return PressResult("Diese Schaltfläche kenne ich nicht (mehr).")
    outcome = settle(ctx.store, ctx.plan, pending, choice, press.user_name, now)
    who = esc(press.user_name)
    asked = esc(pending.question)
    if outcome.kind == "refused":
        return PressResult("Liegt in der Zukunft.", refusal(ctx, outcome))
    if outcome.kind == "duplicate":
        return PressResult("Die Nachricht ist inzwischen schon als Meldung gespeichert.",
                           f"{asked} – ist inzwischen gespeichert.")
    if outcome.kind != "recorded":
        return PressResult("Nicht gespeichert.", f"{asked} – Nein ({who}). Nichts gespeichert.")
    reply = confirmation_reply(ctx, outcome, "✅ gespeichert:", pending.message_id,
                               pending.forwarded_from, undo=not press.via_console,
                               written_on=pending.at.date())
    said = "Ja" if choice == "save" else esc(choice or "")
    return PressResult("Gespeichert.", f"{asked} – {said} ({who}).",
                       posts=((press.chat_id, reply),))


def on_text(ctx: Context, msg: Incoming, now: datetime) -> list[Reply] | str | None:
    """A plain message in an allowed chat; None when it reports nothing."""
    report = report_of(ctx, msg, now)
    if msg.edited:
        outcome = record_edit(ctx.store, ctx.plan, report, now)
    else:
        outcome = record(ctx.store, ctx.plan, report, now)
    if outcome.kind == "refused":
        return refusal(ctx, outcome)
    if outcome.kind == "unsure":
        if outcome.pending is not None:
            return [question_reply(ctx, outcome.pending)]
        return unsure_text(outcome, edited=msg.edited)
    if outcome.kind == "recorded":
        return confirmation(ctx, outcome, msg, "✅ gespeichert:")
    if outcome.kind == "changed":
        return confirmation(ctx, outcome, msg, "✏️ geändert:")
    if outcome.kind == "withdrawn":
        return "✏️ Die geänderte Nachricht nennt kein Arbeitspaket mehr – Meldung zurückgenommen."
    if outcome.kind == "nothing" and outcome.all_reached:
        return "\n".join(all_reached_line(ctx, mid) for mid in outcome.all_reached)
    if outcome.kind == "duplicate":
        # Handled again after a restart: confirmed again, unless it was withdrawn since.
        if outcome.updates or outcome.marks:
            return confirmation(ctx, outcome, msg, "✅ gespeichert:")
        return ""
    return None


_UPDATE_ARGS = re.compile(r"^#?(?:ap|arbeitspaket)?\s*0*(\d{1,3})\b\s*[:\-–]?\s*(.*)$",
                          re.IGNORECASE | re.DOTALL)
UPDATE_USAGE = ("So geht es: /update AP3 Einladungen verschickt, 60 % – erst das Arbeitspaket "
                "(Nummer oder ein Wort aus dem Titel), dann was passiert ist.")


def _by_title(ctx: Context, args: str) -> tuple[WorkPackage | None, str, str | None]:
    """(the AP, the report) of "/update Bildungsportal: Prototyp steht" or "/update
    Bildungsportal Prototyp steht"; else (None, "", a German sentence why not).

    Before a colon, the words may name the AP as /status takes them; without one, the
    shortest run of leading words (at most three) that names one AP by its title does.
    """
    head, colon, rest = args.partition(":")
    if colon and head.strip() and len(head.split()) <= 5:
        lookup = find_work_package(ctx.plan, head)
        if lookup.found is not None:
            return lookup.found, rest.strip(), None
        if lookup.candidates:
            return None, "", _which(head, lookup.candidates)
    words = args.split()
    several: tuple[str, tuple[WorkPackage, ...]] | None = None
    for k in range(1, min(3, len(words)) + 1):
        query = " ".join(words[:k])
        lookup = find_work_package(ctx.plan, query)
        found = lookup.found
        named = [w for w in re.findall(r"\w+", fold(query)) if len(w) >= 3]
        if found is not None and all(w in fold(found.title) for w in named):
            return found, " ".join(words[k:]).lstrip(":–- "), None
        if not lookup.candidates:
            break
        several = several or (query, lookup.candidates)
    if several is not None:
        return None, "", _which(*several)
    return None, "", UPDATE_USAGE


def _which(query: str, candidates: tuple[WorkPackage, ...]) -> str:
    names = ", ".join(f"{wp.label} ({esc(wp.title)})" for wp in candidates[:6])
    return (f"Mit „{esc(query.strip())}“ passen mehrere Arbeitspakete: {names}. Bitte mit "
            f"Nummer schreiben, z. B. /update AP{candidates[0].number} … Ich habe nichts "
            f"gespeichert.")


def update_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    if not args.strip():
        return UPDATE_USAGE
    if m := _UPDATE_ARGS.match(args):
        lookup = find_work_package(ctx.plan, m.group(1))
        if lookup.found is None:
            return (f"AP {int(m.group(1))} gibt es nicht – der Plan hat {ctx.plan.ap_range}. "
                    f"Ich habe nichts gespeichert.")
        wp, text = lookup.found, m.group(2).strip()
    else:
        found, text, problem = _by_title(ctx, args)
        if found is None:
            return problem or UPDATE_USAGE
        wp = found
    if not text:
        return (f"Was gibt es Neues zu {wp.label}? Zum Beispiel: "
                f"/update AP{wp.number} Einladungen verschickt, 60 %")
    if msg.edited:
        return ""  # an edited command is not executed again
    outcome = record(ctx.store, ctx.plan, report_of(ctx, msg, now, text), now,
                     forced_ap=wp.id)
    if outcome.kind == "refused":
        return refusal(ctx, outcome)
    if outcome.kind == "unsure":
        return [question_reply(ctx, outcome.pending)] if outcome.pending else unsure_text(outcome)
    if outcome.kind in ("duplicate", "nothing") and not (outcome.updates or outcome.marks):
        return ""
    return confirmation(ctx, outcome, msg, "✅ gespeichert:")


def _withdrawn_text(updates: tuple[Update, ...], marks: tuple[MilestoneMark, ...]) -> str:
    what = [f"AP {u.ap[2:]}" for u in updates] + [m.milestone for m in marks]
    text = trim(" ".join(updates[0].text.split()), 80) if updates else ""
    quoted = f" („{esc(text)}“)" if text else ""
    return f"↩️ Zurückgenommen: {', '.join(what)}{quoted}. Es zählt nicht mehr."


UNDO_OFFERED = 5  # reports offered as buttons by /rueckgaengig


def _undo_label(entry: MessageRecords, with_author: bool) -> str:
    """ "24.11. AP 3: Einladungen verschickt…" (with the author for an admin's list)."""
    first = entry.first
    what = ", ".join([*(f"AP {u.ap[2:]}" for u in entry.updates),
                      *(m.milestone for m in entry.marks)])
    author = f"{first.author.name.split()[0]} · " if with_author and first.author.name else ""
    text = " ".join(entry.updates[0].text.split()) if entry.updates else ""
    if re.match(r"#?(?:ap|arbeitspaket)\s*\d", text, re.IGNORECASE):
        what = ""  # the text names its AP itself: "AP3: Einladungen verschickt"
    return trim(f"{first.at:%d.%m.} {author}{': '.join(p for p in (what, text) if p)}", 48)


def _undo_buttons(entries: list[MessageRecords], with_author: bool) -> tuple[Button, ...]:
    return tuple(Button(_undo_label(e, with_author), f"{UNDO}:{e.message_id}")
                 for e in entries)


def undo_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    """/rueckgaengig withdraws the sender's newest report and offers their earlier ones as
    buttons; "/rueckgaengig liste" only offers the last ones; "/rueckgaengig alle" (admins)
    offers the last reports of anyone in this chat."""
    wanted = args.strip().lower()
    if wanted in ("liste", "alle"):
        everyone = wanted == "alle"
        if everyone and not is_admin(ctx, msg.user_id, msg.via_console):
            return ("Die Meldungen aller zurücknehmen dürfen nur Admins; /rueckgaengig nimmt "
                    "Ihre eigene letzte Meldung zurück.")
        entries = last_messages(ctx.store, msg.chat_id, None if everyone else msg.user_id,
                                UNDO_OFFERED)
        if not entries:
            return ("Ich finde hier keine Meldung, die ich zurücknehmen könnte." if everyone
                    else "Ich finde hier keine Meldung von Ihnen, die ich zurücknehmen könnte.")
        whose = "die letzten Meldungen hier" if everyone else "Ihre letzten Meldungen"
        return [Reply(f"Welche Meldung soll ich zurücknehmen? ({whose}, neueste zuerst)",
                      _undo_buttons(entries, everyone))]
    if wanted:
        return ("So geht es: /rueckgaengig nimmt Ihre letzte Meldung zurück, "
                "/rueckgaengig liste zeigt Ihre letzten zur Auswahl, /rueckgaengig alle "
                "(Admins) die aller. Ich habe nichts zurückgenommen.")
    updates: tuple[Update, ...] = ()
    marks: tuple[MilestoneMark, ...] = ()
    if msg.message_id is not None:
        # The same command handled again (after a restart) withdraws nothing more.
        updates, marks = withdrawn_by(ctx.store, msg.chat_id, msg.message_id)
    if not updates and not marks:
        message_id = last_message_of(ctx.store, msg.user_id, msg.chat_id)
        if message_id is None:
            return "Ich finde hier keine Meldung von Ihnen, die ich zurücknehmen könnte."
        updates, marks = withdraw_message(ctx.store, msg.chat_id, message_id, now,
                                          by=msg.message_id)
    text = _withdrawn_text(updates, marks)
    earlier = last_messages(ctx.store, msg.chat_id, msg.user_id, UNDO_OFFERED - 1)
    if not earlier:
        return text
    return [Reply(f"{text}\nEine frühere Meldung auch zurücknehmen?",
                  _undo_buttons(earlier, False))]


def on_press(ctx: Context, press: ButtonPress, now: datetime, admin: bool) -> PressResult:
    kind, _, raw_id = press.data.partition(":")
    if kind == ASK:
        return _on_question(ctx, press, now, admin)
    # ASCII digits only: "²".isdigit() holds, and int("²") raises.
    # The message id as the front-end gave it (a Telegram number, a Matrix event id).
    if kind != UNDO or not re.fullmatch(r"\S{1,100}", raw_id):
        return PressResult("Diese Schaltfläche kenne ich nicht (mehr).")
    message_id = raw_id
    authors = message_authors(ctx.store, press.chat_id, message_id)
    if not authors:
        return PressResult("Diese Meldung gibt es nicht mehr.")
    if press.user_id not in authors and not admin:
        return PressResult("Zurücknehmen kann nur, wer die Meldung geschrieben hat, "
                           "oder ein Admin.")
    updates, marks = withdraw_message(ctx.store, press.chat_id, message_id, now)
    if not updates and not marks:
        return PressResult("Diese Meldung ist schon zurückgenommen.")
    return PressResult("Zurückgenommen.",
                       f"{_withdrawn_text(updates, marks)} ({esc(press.user_name)})")


_HISTORY_ARGS = re.compile(r"^(?:#?(?:ap|arbeitspaket)\s*)?0*(\d{1,3})(?:\s+(\d+))?$",
                           re.IGNORECASE)


def history_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    count = HISTORY_DEFAULT
    query = args.strip()
    if ref := _HISTORY_ARGS.match(query):  # "AP3", "AP 3", "3", "AP 3 20"
        query, wanted = ref.group(1), ref.group(2)
    else:  # words of a title, perhaps with a count: "Bildungsportal 20"
        words, _, last = query.rpartition(" ")
        digits = re.fullmatch(r"[0-9]{1,6}", last) is not None  # not "²": int() refuses it
        query, wanted = (words, last) if words and digits else (query, None)
    if wanted:
        count = max(1, min(HISTORY_MAX, int(wanted)))
    if not query:
        return "Welches Arbeitspaket? Zum Beispiel: /verlauf AP3 oder /verlauf AP3 20"
    lookup = find_work_package(ctx.plan, query)
    if lookup.found is None:
        if lookup.unknown_number is not None:
            return f"AP {lookup.unknown_number} gibt es nicht – der Plan hat {ctx.plan.ap_range}."
        return f"Zu „{esc(query)}“ finde ich kein Arbeitspaket. Beispiel: /verlauf AP3"
    wp = lookup.found
    milestone_ids = {m.id for m in ctx.plan.milestones_of(wp.id)}
    entries: list[tuple[datetime, str]] = []
    for u in ctx.store.updates(wp.id):
        line = (f"{short_day(u.at.date())} {esc(u.author.name)}: "
                f"{esc(trim(' '.join(u.text.split()), 300))}")
        facts = update_line(u).partition(" · ")[2]
        if facts:
            line += f" <i>({esc(facts)})</i>"
        if u.forwarded_from:
            line += f" <i>(weitergeleitet von {esc(u.forwarded_from)})</i>"
        entries.append((u.at, f"<s>{line}</s> (zurückgenommen)" if u.withdrawn else f"• {line}"))
    for m in ctx.store.marks():
        if m.milestone in milestone_ids:
            line = (f"🏁 {esc(m.milestone)} erreicht am {short_day(m.reached_on)} "
                    f"(vermerkt von {esc(m.author.name)})")
            entries.append((m.at, f"<s>{line}</s> (zurückgenommen)" if m.withdrawn else line))
    if not entries:
        return (f"Zu {wp.label} ist noch nichts gemeldet. So geht es: "
                f"„AP{wp.number}: Einladungen verschickt, 60 %“ in den Gruppenchat schreiben.")
    entries.sort(key=lambda e: e[0], reverse=True)
    shown = entries[:count]
    head = f"<b>Verlauf {esc(wp.label)} · {esc(wp.title)}</b> (neueste zuerst, {len(shown)} " \
           f"von {len(entries)})"
    return "\n".join([head, *(text for _, text in shown)])


COMMANDS = (
    Command("update", update_command, "Fortschritt melden", usage="AP3 Text"),
    Command("rueckgaengig", undo_command, "Ihre letzte Meldung zurücknehmen, frühere zur Auswahl",
            aliases=("undo",), usage="[liste | alle]"),
    Command("verlauf", history_command, "Alle Meldungen zu einem Arbeitspaket",
            usage="AP3 [Anzahl]"),
)
