"""Questions in plain German, for messages addressed to apbot."""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.agenda import answer_period, meetings_command, overdue_text, year_out_of_range
from bot.format import ago, day, esc, short_day, until
from bot.messages import Context, Incoming, local_today
from bot.views import milestone_line, programme_ended_text, status_view
from workflows.agenda import all_milestones, running_in
from workflows.periods import Period, read_period
from workflows.plan import WorkPackage
from workflows.progress import latest_progress
from workflows.quarters import YearOutOfRange
from workflows.queries import (
    MilestoneStatus,
    ap_status,
    find_work_package,
    norm,
    programme_over,
)

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
_PROGRAMME = re.compile(r"\bprogramm(?:s|es)?\b|\blaufzeit\b|\bforderzeitraum\b")
# In `norm` form: "dauert" is "daurt" there.
_WHEN_ENDS = re.compile(r"\bwann\b|\blauft\b|\bende\w*\b|\bdaue?r\w*\b|\blange\b"
                        r"|\blaufzeit\b|\bforderzeitraum\b|\bbeginn\w*\b|\bvorbei\b")


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


def _programme_span(ctx: Context, now: datetime) -> str:
    """ "Bis wann läuft das Programm?": its span, in the tense of `now`."""
    prog = ctx.plan.programme
    today = local_today(ctx, now)
    span = f"{prog.start} bis {prog.end} ({short_day(prog.first_day)} – {short_day(prog.last_day)})"
    if today > prog.last_day:
        return (f"Das Programm lief von {span} und endete am {day(prog.last_day)} – "
                f"{ago((today - prog.last_day).days)}. "
                + programme_ended_text(prog.last_day).removeprefix(
                    f"Das Programm endete am {day(prog.last_day)}. "))
    if today < prog.first_day:
        return (f"Das Programm läuft laut Plan von {span}; es beginnt "
                f"{until((prog.first_day - today).days)}.")
    left = (prog.last_day - today).days
    return (f"Das Programm läuft laut Plan von {span}. Es endet am {day(prog.last_day)} – "
            f"{'heute' if left == 0 else f'noch {left} Tag' + ('e' if left > 1 else '')}.")


def _last_of(ctx: Context, last: MilestoneStatus, what: tuple[str, str, str],
             today: date) -> str:
    """After the last due date: which one was the last, and that the programme is over."""
    m = last.milestone
    state = (f"erreicht am {short_day(last.reached_on)}" if last.reached_on
             else "nicht als erreicht vermerkt")
    end = ctx.plan.programme.last_day
    over = f" – das Programm endete am {day(end)}" if programme_over(ctx.plan, today) else ""
    return (f"Laut Plan steht {what[0]} {what[1]} mehr an{over}. {what[2]}: <b>{esc(m.id)} "
            f"{esc(m.title)}</b> (AP {m.ap[2:]}), fällig {day(m.due)} – {state}.")


def _next_milestone(ctx: Context, folded: str, now: datetime) -> str:
    """The next milestone ahead, and any of its kind still open from the past."""
    today = local_today(ctx, now)
    every = all_milestones(ctx.plan, ctx.store.marks(), today)
    if _BIKO.search(folded):
        every = [s for s in every if _BIKO.search(norm(s.milestone.title))]
        what = ("keine", "Bildungskonferenz (BiKo)", "Die letzte laut Plan")
        next_what, one = "Nächste Bildungskonferenz (BiKo)", "eine"
    else:
        what = ("kein", "Meilenstein", "Der letzte laut Plan")
        next_what, one = "Nächster Meilenstein", "einer"
    statuses = [s for s in every if s.reached_on is None]
    lines = []
    if every and all(s.days_left < 0 for s in every):  # all due dates have passed
        last = max(every, key=lambda s: (s.milestone.due, s.milestone.id))
        lines.append(_last_of(ctx, last, what, today))
        statuses = [s for s in statuses if s is not last]  # said already
    elif not statuses:
        return (f"Es ist {what[0]} {what[1]} mehr offen – alle sind als erreicht vermerkt."
                if every else f"Im Plan steht {what[0]} {what[1]}.")
    ahead = [s for s in statuses if s.days_left >= 0]
    behind = [s for s in statuses if s.days_left < 0]
    if ahead:
        m = ahead[0].milestone
        lines.append(f"{next_what} laut Plan: <b>{esc(m.id)} {esc(m.title)}</b> "
                     f"(AP {m.ap[2:]}), fällig {day(m.due)} – {until(ahead[0].days_left)}."
                     + (" Der Termin im Plan ist angenommen." if m.assumed else ""))
    elif not lines:
        lines.append(f"Laut Plan ist {what[0]} {what[1]} mehr fällig.")
    if behind:
        listed = ", ".join(f"{esc(s.milestone.id)} (fällig {short_day(s.milestone.due)})"
                           for s in behind)
        example = behind[0].milestone
        also = "Ebenfalls nicht" if lines and not ahead else "Noch nicht"
        lines.append(f"{also} als erreicht vermerkt: {listed}. Ist {one} davon erreicht, "
                     f"schreiben Sie z. B. „{esc(example.title)} am {short_day(example.due)}“.")
    if programme_over(ctx.plan, today):
        lines.append(programme_ended_text(ctx.plan.programme.last_day).split(". ", 1)[1])
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
    if programme_over(ctx.plan, today):
        return "\n".join([f"<b>Meilensteine{esc(label)}, bis zum Programmende nicht als "
                          "erreicht vermerkt</b>",
                          *(milestone_line(s) for s in statuses), "",
                          programme_ended_text(ctx.plan.programme.last_day)])
    return "\n".join([f"<b>Offene Meilensteine{esc(label)}</b>",
                      *(milestone_line(s) for s in statuses)])


def _running(ctx: Context, period: Period, today: date) -> str:
    running = running_in(ctx.plan, period.start, period.end)
    last_day = ctx.plan.programme.last_day
    if not running and period.start > last_day:
        tense = "endete" if today > last_day else "endet"
        return (f"Laut Plan läuft {esc(period.label)} kein Arbeitspaket mehr: Das Programm "
                f"{tense} am {day(last_day)}. Was erreicht wurde, zeigen /plan und "
                "/meilensteine; den Bericht über die ganze Laufzeit schickt /bericht Programm.")
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
    if not _AP_NUMBER.search(folded) and _PROGRAMME.search(folded) and _WHEN_ENDS.search(folded):
        return _programme_span(ctx, now)  # before the title words: "lange" is in "lebenslangen"
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
            return _running(ctx, period, today)
        return answer_period(ctx, period, now)
    return None
