"""Files in the chat: /zeitplan (Gantt chart), /kalender (iCalendar), /bericht (Word or PDF)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from bot.calendar_feed import subscription_command
from bot.messages import Attachment, Command, Context, Incoming, Reply, local_today
from bot.render.chart_worker import draw_chart
from bot.render.format import esc, short_day
from bot.render.report_document import report_document
from bot.render.report_export import render_report
from bot.render.timeline import (
    ChartRequest,
    phone_window,
    state_histories,
    timeline_text,
    whole_programme,
)
from workflows.periods import MONTH_NAMES, Period, parse_period, year_period
from workflows.plan import Plan
from workflows.queries import norm, plan_overview, programme_over
from workflows.report import period_report, programme_period

log = logging.getLogger(__name__)
REPORT_PERIODS = ("year", "quarter", "month")
# Words for the whole programme's report (folded with `norm`): "/bericht Programm".
PROGRAMME_WORDS = frozenset(norm(w) for w in (
    "programm", "gesamt", "gesamtlaufzeit", "laufzeit", "ganze laufzeit", "ganzes programm",
    "gesamtes programm", "abschluss", "abschlussbericht", "schlussbericht",
    "verwendungsnachweis", "alles"))
PHONE_WIDTH = 1280  # bot.render.gantt's widths, here without importing matplotlib
FULL_WIDTH = 1600
CALENDAR_FILE = "arbeits-und-zeitplan.ics"  # one name, so a re-import finds the same file


WHOLE_WORDS = frozenset({"gesamt", "ganz", "ganze", "alles", "programm", "komplett", "voll"})


def chart_request(ctx: Context, now: datetime, whole: bool = False) -> ChartRequest:
    """What the chart is drawn from, read now (on the event loop): the phone version from
    the last quarter to the programme's end, or (`whole`) the whole programme."""
    today = local_today(ctx, now)
    plan = ctx.plan
    updates = ctx.store.updates()
    statuses = tuple(plan_overview(plan, updates, ctx.store.marks(), today))
    histories = tuple(sorted(state_histories(plan, updates, ctx.settings.timezone).items()))
    if whole:
        return ChartRequest(plan, statuses, today, histories, whole_programme(plan), FULL_WIDTH)
    return ChartRequest(plan, statuses, today, histories, phone_window(plan, today),
                        PHONE_WIDTH)


def gantt_attachment(ctx: Context, now: datetime, whole: bool = False) -> Attachment:
    """The Gantt chart as a photo, with the text timeline as its fallback."""
    request = chart_request(ctx, now, whole)
    today, plan = request.today, request.plan
    window = request.window
    shown = f"{window.first} – {window.last}"
    if window != whole_programme(plan):
        shown += " (den ganzen Plan zeigt /zeitplan gesamt)"
    caption = (f"📊 <b>Arbeits- und Zeitplan</b>, Stand {short_day(today)}, {shown}\n"
               "Balken: Zeitraum laut Plan; Farbe und Muster: gemeldeter Stand ab dem Tag der "
               "Meldung; schwarzer Streifen: Fortschritt in %. Meilensteine: ◆ grün = "
               "erreicht (am Tag), ◇ weiß = offen, ◆ gelb mit ! = überfällig; Namen und Daten "
               "unter dem Bild.")

    def render() -> bytes:  # from the snapshot above only: it may run in another thread
        # By the chart worker if it runs, else here (matplotlib is imported only then).
        return draw_chart(request)

    name = "zeitplan-gesamt" if whole else "zeitplan"
    return Attachment(f"{name}-{today:%Y-%m-%d}.png", render, "photo", caption,
                      timeline_text(plan, list(request.statuses), today))


def preload_chart(ctx: Context, now: datetime) -> Callable[[], None]:
    """A job for a background thread at start-up: draw today's /zeitplan (by the chart
    worker, which imported matplotlib meanwhile, or here), so the first one asked for is
    answered from it if nothing changed. The data is read now."""
    request = chart_request(ctx, now)
    def job() -> None:
        draw_chart(request)

    return job


def calendar_attachment(ctx: Context, now: datetime) -> Attachment:
    """All milestones and meetings as an .ics document."""
    # icalendar only when a calendar is asked for: importing it costs start-up 50 ms.
    from bot.render.calendar_export import calendar_file

    plan = ctx.plan
    data = calendar_file(plan, ctx.store, ctx.settings.timezone, now)
    caption = (f"📅 <b>Kalender</b>: {len(plan.milestones)} Meilensteine (ganztägig) und "
               f"{len(plan.meetings)} Sitzungsreihen, Zeitzone {esc(ctx.settings.timezone.key)}.\n"
               "In Outlook oder Thunderbird importieren. Von selbst aktuell bleibt der "
               "Kalender als Abonnement: die Adresse gibt /kalender abo (Admins).")
    fallback = ("Die Kalenderdatei ließ sich nicht senden. Die Termine zeigen /meilensteine, "
                "/naechste und /termine hier im Chat.")
    return Attachment(CALENDAR_FILE, data, "document", caption, fallback)


# Words after the period that ask for a format: "/bericht 2026 pdf".
REPORT_FORMAT_WORDS = {"pdf": "pdf", "word": "docx", "docx": "docx", "doc": "docx"}
FORMAT_NAMES = {"docx": "Word-Datei", "pdf": "PDF", "md": "Markdown"}


def split_report_format(args: str) -> tuple[str, str]:
    """ "2026 pdf" → ("2026", "pdf"); without a format word the report is a Word file."""
    words = args.split()
    formats = [REPORT_FORMAT_WORDS[w.lower().strip(".")] for w in words
               if w.lower().strip(".") in REPORT_FORMAT_WORDS]
    rest = [w for w in words if w.lower().strip(".") not in REPORT_FORMAT_WORDS]
    fmt = formats[-1] if formats else "docx"
    if rest and rest[-1].lower() in ("als", "im", "in"):  # "/bericht 2026 als PDF"
        rest.pop()
    return " ".join(rest), fmt


def report_period(args: str, today: date, plan: Plan | None = None) -> Period | None:
    """ "" (this year), "2026", "Q3 2026", "Juni 2026", "letztes Quartal"; None if unclear.

    With the plan, also "Programm" (the whole programme), and "" means the whole programme
    once it is over: what is left to write then is the final report.
    """
    if plan is not None:
        if not args.strip() and programme_over(plan, today):
            return programme_period(plan)
        if " ".join(norm(args).split()) in PROGRAMME_WORDS:
            return programme_period(plan)
    if not args.strip():
        return year_period(today.year)
    period = parse_period(args, today)
    return period if period is not None and period.kind in REPORT_PERIODS else None


def _slug(period: Period) -> str:
    if period.kind == "quarter":
        return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    if period.kind == "month":
        return f"{period.start:%Y-%m}"
    if period.kind == "programme":
        return "programm"
    return str(period.start.year)


def period_words(period: Period) -> str:
    """What to type after /bericht for `period`: "2026", "Q3 2026", "Juni 2026", "Programm"."""
    if period.kind == "quarter":
        return f"Q{(period.start.month - 1) // 3 + 1} {period.start.year}"
    if period.kind == "month":
        return f"{MONTH_NAMES[period.start.month - 1]} {period.start.year}"
    if period.kind == "programme":
        return "Programm"
    return str(period.start.year)


def report_attachment(ctx: Context, period: Period, now: datetime,
                      fmt: str = "docx") -> Attachment:
    """The Sachbericht for `period` as a document: Word (docx), PDF or Markdown (md)."""
    today = local_today(ctx, now)
    report = period_report(ctx.plan, ctx.store.updates(), ctx.store.marks(), period, today,
                           ctx.store.entries())
    doc = report_document(ctx.plan, report, today)

    def render() -> bytes:  # from the snapshot above only: it may run in another thread
        return render_report(doc, fmt)

    n = report.update_count
    source = ("der 1 Meldung des Zeitraums" if n == 1
              else f"den {n} Meldungen des Zeitraums")
    what = ("als Word-Datei zum Bearbeiten" if fmt == "docx"
            else f"als {FORMAT_NAMES.get(fmt, fmt)}")
    caption = (f"📝 <b>Sachbericht {esc(period.label)}</b> "
               f"({short_day(period.start)} – {short_day(period.end)}) {what}, ein Entwurf aus "
               f"{source}: Übersicht, dann je "
               "Arbeitspaket Ziele, Umgesetztes, Meilensteine und Ausblick.")
    fallback = ("Der Bericht ließ sich nicht als Datei senden. Den Stand zeigen /plan und "
                "/verlauf AP3 hier im Chat")
    if period.kind == "programme":
        caption += (" Die Grundlage für den Sachbericht des Verwendungsnachweises; einen "
                    f"Jahresbericht gibt es mit /bericht {period.end.year}.")
        fallback += "."
    else:  # the command line knows years, quarters and months
        fallback += ("; auf dem Server schreibt "
                     f"<code>python -m bot export report --period {_slug(period)} "
                     f"bericht.{fmt}</code> die Datei.")
    if fmt == "docx":
        caption += f" Als PDF: /bericht {esc(period_words(period))} pdf"
    return Attachment(f"sachbericht-{_slug(period)}.{fmt}", render, "document", caption,
                      fallback)


def gantt_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    # The chart is drawn by the front-end; if drawing fails, it sends the timeline instead.
    words = set(norm(args).split())
    if words and not words <= WHOLE_WORDS:
        return (f"„{esc(args)}“ kenne ich bei /zeitplan nicht. /zeitplan zeigt die Zeit vom "
                "letzten Quartal bis zum Programmende, /zeitplan gesamt das ganze Programm.")
    return [Reply("", attachment=gantt_attachment(ctx, now, whole=bool(words)))]


def calendar_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    words = norm(args).split()
    if not words:
        return [Reply("", attachment=calendar_attachment(ctx, now))]
    if words[0] in ("abo", "abonnieren", "abonnement") and words[1:] in ([], ["neu"]):
        return subscription_command(ctx, msg, renew=bool(words[1:]), now=now)
    return (f"„{esc(args)}“ kenne ich bei /kalender nicht. /kalender schickt die Datei, "
            "/kalender abo die Adresse zum Abonnieren (Admins).")


def report_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    today = local_today(ctx, now)
    args, fmt = split_report_format(args)
    period = report_period(args, today, ctx.plan)
    if period is None:
        default = ("ganze Laufzeit" if programme_over(ctx.plan, today) else "dieses Jahr")
        return (f"„{esc(args)}“ verstehe ich nicht als Berichtszeitraum. Beispiele: /bericht "
                f"({default}), /bericht 2026, /bericht Q3 2026, /bericht letztes Quartal, "
                "/bericht Programm (die ganze Laufzeit), /bericht 2026 pdf")
    return [Reply("", attachment=report_attachment(ctx, period, now, fmt))]


COMMANDS = (
    Command("zeitplan", gantt_command, "Der Arbeits- und Zeitplan als Bild (Gantt-Diagramm); "
            "gesamt: das ganze Programm", aliases=("gantt",), usage="[gesamt]"),
    Command("kalender", calendar_command, "Meilensteine und Sitzungen als Kalenderdatei (.ics); "
            "abo: die Adresse zum Abonnieren (Admins)", aliases=("ical",), usage="[abo | abo neu]"),
    Command("bericht", report_command, "Sachbericht für einen Zeitraum als Word-Datei, mit "
            "„pdf“ als PDF (nach Programmende: die ganze Laufzeit)", aliases=("report",),
            usage="[2026 | Q3 2026 | Programm] [pdf]"),
)
