"""Questions in plain German, for messages addressed to apbot."""

from __future__ import annotations

import re
from datetime import datetime

from bot.agenda import answer_period, meetings_command, overdue_text, year_out_of_range
from bot.format import day, esc, short_day, until
from bot.messages import Context, Incoming, local_today
from bot.views import milestone_line, status_view
from workflows.agenda import all_milestones, running_in
from workflows.periods import Period, read_period
from workflows.plan import WorkPackage
from workflows.progress import latest_progress
from workflows.quarters import YearOutOfRange
from workflows.queries import ap_status, find_work_package, norm

EXAMPLES = ("„Wann ist die nächste BiKo?“", "„Was ist dieses Quartal fällig?“",
            "„Wie steht AP 7?“")
NOT_UNDERSTOOD = (
    "Das habe ich leider nicht verstanden. Fragen Sie mich zum Beispiel: "
    + " · ".join(EXAMPLES)
    + "\nFortschritt melden Sie so: „AP3: Einladungen verschickt, 60 %“. /hilfe zeigt alles."
)

_AP_NUMBER = re.compile(r"\b(?:ap|arbeitspaket)\s*0*(\d{1,3})\b")
# Words that say nothing about which AP is meant.
_FILLER = {norm(w) for w in {
    "was", "macht", "wie", "steht", "stand", "status", "gibt", "neues", "beim", "bei", "dem",
    "der", "die", "das", "mit", "und", "bot", "apbot", "aktuell", "gerade", "eigentlich", "denn",
    "zum", "zur", "wer", "ist", "fur", "zustandig", "verantwortlich", "leitet", "noch", "schon",
    "sind", "welche", "welcher", "welches",
}}
_BIKO = re.compile(r"\b(?:biko|bikos|bildungskonferenz\w*)\b")


def _clean(text: str, bot_username: str | None) -> str:
    if bot_username:
        text = re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"^\s*(?:bot\s*[,:]|\?)\s*", "", text, flags=re.IGNORECASE)
    return text.strip()


def work_package_in(ctx: Context, folded: str) -> WorkPackage | int | None:
    """The AP a question is about: by number, or by a word of its title (int: unknown number)."""
    if m := _AP_NUMBER.search(folded):
        lookup = find_work_package(ctx.plan, m.group(1))
        return lookup.found if lookup.found else lookup.unknown_number
    words = [w for w in re.findall(r"\w+", folded) if len(w) >= 5 and w not in _FILLER]
    hits = {wp.id: wp for w in words for wp in ctx.plan.work_packages if w in norm(wp.title)}
    return next(iter(hits.values())) if len(hits) == 1 else None


def _next_milestone(ctx: Context, folded: str, now: datetime) -> str:
    """The next milestone ahead, and any of its kind still open from the past."""
    today = local_today(ctx, now)
    statuses = [s for s in all_milestones(ctx.plan, ctx.store.marks(), today)
                if s.reached_on is None]
    if _BIKO.search(folded):
        statuses = [s for s in statuses if _BIKO.search(norm(s.milestone.title))]
        what, next_what = "Bildungskonferenz (BiKo)", "Nächste Bildungskonferenz (BiKo)"
    else:
        what, next_what = "Meilenstein", "Nächster Meilenstein"
    if not statuses:
        return f"Es ist keine {what} mehr offen – alle sind als erreicht vermerkt."
    ahead = [s for s in statuses if s.days_left >= 0]
    behind = [s for s in statuses if s.days_left < 0]
    lines = []
    if ahead:
        m = ahead[0].milestone
        lines.append(f"{next_what} laut Plan: <b>{esc(m.id)} {esc(m.title)}</b> "
                     f"(AP {m.ap[2:]}), fällig {day(m.due)} – {until(ahead[0].days_left)}."
                     + (" Der Termin im Plan ist angenommen." if m.assumed else ""))
    else:
        lines.append(f"Laut Plan ist keine {what} mehr fällig.")
    if behind:
        listed = ", ".join(f"{esc(s.milestone.id)} (fällig {short_day(s.milestone.due)})"
                           for s in behind)
        lines.append(f"Noch nicht als erreicht vermerkt: {listed}. Ist eine davon erreicht, "
                     f"schreiben Sie z. B. „{esc(behind[0].milestone.title)} am 12.06.2026“.")
    return "\n".join(lines)


def _lead(ctx: Context, wp: WorkPackage) -> str:
    if wp.lead:
        return f"Für {esc(wp.label)} ({esc(wp.title)}) ist {esc(wp.lead)} zuständig."
    return (f"Für {esc(wp.label)} ({esc(wp.title)}) ist im Plan noch niemand als zuständig "
            f"eingetragen (Feld „lead“ in der Plandatei).")


def _open_milestones(ctx: Context, period: Period | None, now: datetime) -> str:
    today = local_today(ctx, now)
    statuses = [s for s in all_milestones(ctx.plan, ctx.store.marks(), today)
                if s.reached_on is None and (period is None or period.contains(s.milestone.due))]
    label = f" {period.label}" if period else ""
    if not statuses:
        return f"Keine offenen Meilensteine{esc(label)}."
    return "\n".join([f"<b>Offene Meilensteine{esc(label)}</b>",
                      *(milestone_line(s) for s in statuses)])


def _running(ctx: Context, period: Period) -> str:
    running = running_in(ctx.plan, period.start, period.end)
    if not running:
        return f"Laut Plan läuft {esc(period.label)} kein Arbeitspaket."
    return "\n".join([f"<b>Laut Plan laufen {esc(period.label)} {len(running)} Arbeitspakete</b>",
                      *(f"• {esc(wp.label)} {esc(wp.title)}" for wp in running)])


def answer(ctx: Context, msg: Incoming, now: datetime) -> str | None:
    """The answer to a question addressed to apbot, or None when it is not one we know."""
    text = _clean(msg.text, ctx.bot_username)
    folded = norm(text)  # patterns below are written in this form: no umlauts, "ue" → "u"
    if not folded:
        return None
    today = local_today(ctx, now)
    try:
        period = read_period(text, today)
    except YearOutOfRange as err:  # "Was ist im Dezember 9999 fällig?"
        return year_out_of_range(ctx, err.year)
    wp = work_package_in(ctx, folded)
    if isinstance(wp, int):
        return f"AP {wp} gibt es nicht – der Plan hat {ctx.plan.ap_range}."
    if wp is not None and re.search(r"zustandig|verantwortlich|\bwer\b|leitet|leitung", folded):
        return _lead(ctx, wp)
    if re.search(r"\bnachste[nrs]?\b|\bwann\b", folded) and (
            _BIKO.search(folded) or "meilenstein" in folded):
        return _next_milestone(ctx, folded, now)
    if re.search(r"uberfallig|verspatet|im verzug|hinterher", folded):
        return overdue_text(ctx, now)
    if "meilenstein" in folded:
        return _open_milestones(ctx, period if period and period.kind != "day" else None, now)
    if wp is not None:
        progress = latest_progress(ctx.store.updates_newest_first(wp.id))
        st = ap_status(ctx.plan, wp, progress, ctx.store.marks(), today)
        return status_view(st, today)
    if re.search(r"\btermin|sitzung|treffen|jour fixe|steurungsgruppe", folded) and (
            period is None):
        return meetings_command(ctx, msg, "", now)
    if period is not None:
        if period.kind == "day" and re.search(r"\blauft|laufen\b", folded):
            return _running(ctx, period)
        return answer_period(ctx, period, now)
    return None
