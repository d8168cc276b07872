"""The chat commands: parse the arguments, ask the engine, render the answer."""

from __future__ import annotations

from datetime import datetime

from bot import agenda, files, meetings, plan_commands, posts, reports
from bot.messages import Command, Commands, Context, Frontend, Incoming, local_today
from bot.render import updates_workbook, workbook
from bot.render.format import esc
from bot.render.views import plan_view, status_view
from workflows.progress import latest_progress
from workflows.queries import ap_status, find_work_package, plan_overview


def help_text(commands: Commands, frontend: Frontend) -> str:
    lines = [
        "👋 Ich bin <b>apbot</b>, der Assistent des Koordinierungsteams für den "
        "Arbeits- und Zeitplan Bildungskommunen.",
        "",
        "<b>Befehle</b>",
    ]
    for c in commands.ordered:
        alias = f" (auch /{', /'.join(c.aliases)})" if c.aliases else ""
        usage = f" {esc(c.usage)}" if c.usage else ""
        lines.append(f"/{c.name}{usage} – {esc(c.description)}{alias}")
    lines += [
        "",
        "<b>Beispiele</b>",
        "/status AP3 · /status 3 · /status Bildungsportal",
        "/plan · /verlauf AP3 · /quartal nächstes · /naechste 10",
        "/zeitplan (Bild) · /kalender (.ics) · /bericht Q3 2026 (Sachbericht, Word) · "
        "/bericht 2026 pdf · /bericht Programm (Abschlussbericht) · /meldungen (Excel)",
        "",
        "<b>Fragen</b> – zum Plan einfach in die Gruppe, im privaten Chat oder mit „Bot, …“:",
        "„Wann ist die nächste BiKo?“ · „Was ist im Juni 2026 fällig?“ · "
        "„Wer ist für AP 4 zuständig?“ · „Was ist überfällig?“",
        "",
        "<b>Fortschritt melden</b> – einfach in die Gruppe schreiben:",
        "„AP3: Einladungen verschickt, 60 %“ · „AP 8 verzögert“ · „Leitbild beschlossen“",
        "Ich bestätige jede Meldung; " + ("„Rückgängig“ oder " if frontend.buttons else "")
        + "/rueckgaengig nimmt sie zurück. Wo ich unsicher bin, frage ich nach"
        + (" („Speichern“ / „Nein“)." if frontend.buttons else "."),
    ]
    if frontend.edits:
        lines.append("Eine Meldung berichtigen: die Nachricht einfach bearbeiten – ich ändere "
                     "den Eintrag mit.")
    return "\n".join(lines)


def make_help(commands: Commands) -> Command:
    def hilfe(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
        return help_text(commands, ctx.frontend)

    return Command("hilfe", hilfe, "Was ich kann, mit Beispielen", aliases=("help",))


def start(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    text = "Guten Tag! " + help_text(COMMANDS, ctx.frontend).removeprefix("👋 ")
    if msg.chat_type != "private" and ctx.frontend.group_hint:
        text += "\n\n" + ctx.frontend.group_hint
    return text


def unknown_ap_text(ctx: Context, number: int) -> str:
    return f"AP {number} gibt es nicht – der Plan hat {ctx.plan.ap_range}."


def status(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    if not args:
        return ("Welches Arbeitspaket? Zum Beispiel: /status AP3 oder /status Bildungsportal. "
                "/plan zeigt alle.")
    lookup = find_work_package(ctx.plan, args)
    if lookup.unknown_number is not None:
        return unknown_ap_text(ctx, lookup.unknown_number)
    if lookup.found is None:
        if lookup.candidates:
            names = ", ".join(f"{wp.label} ({esc(wp.title)})" for wp in lookup.candidates[:6])
            return f"Mit „{esc(args)}“ passen mehrere Arbeitspakete: {names}. Welches meinen Sie?"
        return (f"Zu „{esc(args)}“ finde ich kein Arbeitspaket. Versuchen Sie /status AP3 "
                f"oder ein Wort aus dem Titel; /plan zeigt alle.")
    today = local_today(ctx, now)
    progress = latest_progress(ctx.store.updates_newest_first(lookup.found.id))
    st = ap_status(ctx.plan, lookup.found, progress, ctx.store.marks(), today)
    return "\n".join([status_view(st, today), *meetings.ap_lines(ctx, lookup.found.id, today)])


def plan(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    today = local_today(ctx, now)
    return plan_view(ctx.plan, plan_overview(ctx.plan, ctx.store.updates(), ctx.store.marks(),
                                             today), today)


def build_commands() -> Commands:
    commands = Commands()
    commands.add(Command("status", status, "Stand eines Arbeitspakets", usage="AP3"))
    commands.add(Command("plan", plan, "Alle Arbeitspakete auf einen Blick"))
    for command in (*agenda.COMMANDS, *reports.COMMANDS, *posts.COMMANDS, *files.COMMANDS,
                    *plan_commands.COMMANDS, *workbook.COMMANDS, *updates_workbook.COMMANDS,
                    *meetings.COMMANDS):
        commands.add(command)
    commands.add(make_help(commands))
    commands.add(Command("start", start, "Begrüßung und Überblick", menu=False))
    return commands


COMMANDS = build_commands()
