"""`python -m bot gantt OUT` and `python -m bot export ical|report|csv OUT`: the plan as files.

`export report` writes the Sachbericht as Word, PDF or Markdown (`--format`, else by the
file's extension); `export csv` every update and milestone mark for scripts.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.posts import UsageError
from bot.files import (
    calendar_attachment,
    gantt_attachment,
    report_attachment,
    report_period,
)
from bot.messages import Context, local_today
from bot.render.report_export import REPORT_FORMATS, updates_csv

EXPORT_MODES = ("gantt", "export")
OUT_HELP = "Zieldatei; „-“ schreibt auf die Standardausgabe"


def add_export_parsers(sub: Any) -> None:
    """The subcommands `gantt` and `export` with their own subcommands."""
    gantt = sub.add_parser("gantt", help="den Arbeits- und Zeitplan als Bild (PNG) schreiben")
    gantt.add_argument("out", help=OUT_HELP)
    export = sub.add_parser("export", help="Kalender, Sachbericht oder alle Meldungen als Datei")
    kinds = export.add_subparsers(dest="kind", required=True)
    kinds.add_parser("ical", help="Meilensteine und Sitzungen als iCalendar (.ics)").add_argument(
        "out", help=OUT_HELP)
    report = kinds.add_parser("report", help="Sachbericht als Word (.docx), PDF oder Markdown")
    report.add_argument("--period", default="",
                        help="Zeitraum, z. B. 2026 oder „Q3 2026“ (Standard: dieses Jahr)")
    report.add_argument("--format", choices=REPORT_FORMATS, default=None,
                        help="docx, pdf oder md (Standard: nach der Endung der Zieldatei, "
                             "sonst md)")
    report.add_argument("out", help=OUT_HELP)
    kinds.add_parser("csv", help="alle Meldungen und erreichten Meilensteine als CSV "
                     "(für Skripte)").add_argument("out", help=OUT_HELP)


def export_data(args: argparse.Namespace, ctx: Context, now: datetime) -> bytes:
    """The bytes the subcommand asks for; UsageError for a bad argument."""
    if args.mode == "gantt":
        return gantt_attachment(ctx, now, whole=True).data
    if args.kind == "ical":
        return calendar_attachment(ctx, now).data
    if args.kind == "report":
        period = report_period(args.period, local_today(ctx, now), ctx.plan)
        if period is None:
            raise UsageError(f"„{args.period}“ ist kein Berichtszeitraum "
                             "(z. B. 2026, „Q3 2026“ oder „Juni 2026“).")
        return report_attachment(ctx, period, now, report_format(args.format, args.out)).data
    return updates_csv(ctx.plan, ctx.store.updates(), ctx.settings.timezone, ctx.store.marks())


def report_format(chosen: str | None, out: str) -> str:
    """--format, else the target's extension (bericht.pdf), else Markdown as before."""
    if chosen:
        return chosen
    suffix = Path(out).suffix.lower().lstrip(".")
    return suffix if suffix in REPORT_FORMATS else "md"


def write_out(target: str, data: bytes) -> str:
    """Write to the file (or stdout for "-"); say where it went."""
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return ""
    path = Path(target)
    try:
        path.write_bytes(data)
    except OSError as err:
        raise UsageError(f"{path} lässt sich nicht schreiben ({err.strerror or err}).") from None
    return f"{path} geschrieben ({len(data):,} Bytes).".replace(",", ".")


def run_export(args: argparse.Namespace, ctx: Context, now: datetime) -> int:
    """The file modes; German messages, exit code 2 on bad input."""
    try:
        done = write_out(args.out, export_data(args, ctx, now))
    except UsageError as err:
        print(f"apbot: {err}", file=sys.stderr)
        return 2
    if done:
        print(done)
    return 0
