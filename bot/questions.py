"""Questions in plain German, for messages addressed to apbot."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from itertools import islice

from bot.agenda import (
    answer_period,
    ap_milestones_text,
    meeting_time,
    meetings_command,
    meetings_in_text,
    overdue_text,
    period_span,
    year_out_of_range,
)
from bot.messages import Context, Incoming, local_today
from bot.render.format import ago, day, esc, short_day, trim, until
from bot.render.views import milestone_line, programme_ended_text, status_view
from workflows.agenda import all_milestones, meetings_between, running_in
from workflows.periods import Period, read_period
from workflows.plan import Meeting, WorkPackage
from workflows.progress import STATES, Update, latest_progress
from workflows.quarters import YearOutOfRange
from workflows.queries import (
    MilestoneStatus,
    ap_status,
    find_meetings,
    find_work_package,
    latest_reports,
    norm,
    overall,
    plan_overview,
    programme_over,
    title_words_named,
)
from workflows.report import period_report, programme_period

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


def _clean(text: str) -> str:
    """The question without "Bot," or "?" before it (a mention the front-end took out)."""
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


def _mine(ctx: Context, msg: Incoming) -> str:
    """The APs whose lead is linked to the asking member (by id or @name)."""
    me = {msg.user_id, *([f"@{msg.user_handle}"] if msg.user_handle else [])}
    mine = [wp for wp in ctx.plan.work_packages if wp.lead_member in me]
    if not mine:
        return ("Im Plan sind Sie bei keinem Arbeitspaket als zuständig verknüpft. Ein Admin "
                "kann das mit /zustaendig AP4 als Antwort auf eine Ihrer Nachrichten tun.")
    return "Sie sind zuständig für:\n" + "\n".join(
        f"• {esc(wp.label)} {esc(wp.title)}" for wp in mine)


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


# -- is it a question, and is it about the plan? ---------------------------------------------
# All patterns in `norm` form: no umlauts, "ue" → "u" ("Steuerung" is "steurung").

_QUESTION_START = re.compile(
    r"^(?:und\s+|also\s+|kurze\s+frage\s*[:,]?\s*)?(?:wann|was|wer|wie|wieviele?|welche[nmrs]?|wo"
    r"|gibt\s+es|bis\s+wann|seit\s+wann|ab\s+wann|ist|sind|haben\s+wir|hatten\s+wir"
    r"|steht|stehen|lauft|laufen)\b")
# Requests to the bot that are not worded as questions: "@apbot Status AP 11".
_REQUEST_START = re.compile(
    r"^(?:status|stand|zeig\w*|nenn\w*|sag\s+mir|gib\s+mir|liste|ubersicht|infos?\b|uberblick"
    r"|nachste[nrs]?|letzte[nrs]?|termine)\b")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
# Questions to colleagues, not to apbot: "Kannst du …", "Habt ihr …", "Hat jemand …".
_TO_COLLEAGUES = re.compile(
    r"\b(?:du|dich|dir|dein\w*|ihr|euch|euer|eure\w*|jemand\w*|kannst|konnt|hast|habt|bist"
    r"|seid|willst|wollt|magst|mogt)\b|^\w+\s+sie\b")
_VOCABULARY = re.compile(
    r"\bmeilenstein\w*|\bfallig\w*|\bquartal\w*|\btermin\w*|\b(?:zeit|arbeits)?plan\b"
    r"|\bplan(?:es|s)?\b|\bzeitplan\w*|\bbiko\w*|\bbildungskonferenz\w*|\bleitbild\w*"
    r"|\bbericht\w*|\w+bericht\b|\bsteuerungsgrupp\w*|\bjour\s*fixe?s?\b|\buberfallig\w*"
    r"|\bstand\b|\bprogramm\w*|\bfrist\w*|\bdeadline\w*|\blaufzeit\b|\bforderzeitraum\b"
    r"|\bfortschritt\w*|\bverwendungsnachweis\w*|\bzwischennachweis\w*|\bbildungskommune\w*"
    r"|\bbildungsbeirat\w*|\baps?\b|\barbeitspaket\w*|\bm\d{1,2}\.\d{1,2}\b")
_LOOK_BACK = re.compile(r"\b(?:geschafft|erreicht|erledigt|geleistet|gemeldet|passiert|war|waren"
                        r"|fand|hatten|gab)\b")
_ACHIEVED = re.compile(r"\b(?:was|wie ?viel)\b.*\b(?:geschafft|erreicht|erledigt|geleistet"
                       r"|passiert)\b")
_WHO_REPORTED = re.compile(r"\bwer\b.*\b(?:zuletzt|als\s+letzte[rs]?)\b.*\bgemeldet\b"
                           r"|\bletzten?\s+meldung(?:en)?\b")
_MILESTONE_ID = re.compile(r"\bm(\d{1,2}\.\d{1,2})\b")
_SHORT_AGENDA = re.compile(
    r"^(?:und\s+)?was\s+(?:ist|steht|liegt|gibt\s+es|haben\s+wir)\s+(?:denn\s+|so\s+|noch\s+)?"
    r"(?:heute|morgen|ubermorgen|(?:diese|nachste|kommende)n?\s+woche|(?:diese|nachste)n?\s+monat"
    r"|am\s+\w+|im\s+\w+)(?:\s+an|\s+fallig)?\s*\??$")
_HOW_FAR = re.compile(r"\bwie\s+weit\b.*\b(?:insgesamt|gesamt|im\s+plan|im\s+programm)\b"
                      r"|\bgesamtstand\b|\bgesamtfortschritt\b|\bstand\s+der\s+dinge\b"
                      r"|^(?:wie|was)\s+ist\s+der\s+stand\s*\??$|\binsgesamt\b.*\bstand\b")


def _question_part(text: str) -> str | None:
    """The sentences of a message that ask something, or None when it asks nothing.

    "AP3: Einladungen verschickt. Kommt ihr alle?" asks only "Kommt ihr alle?".
    """
    stripped = text.strip()
    asked = [p for p in _SENTENCES.split(stripped) if p.strip().endswith("?")]
    if asked:
        return " ".join(asked)
    if _QUESTION_START.match(norm(stripped)) and not re.search(r"[.!:;]", stripped):
        return stripped
    return None


def about_plan(ctx: Context, folded: str) -> bool:
    """Does a (`norm`-ed) question speak of the plan: an AP, a milestone, a meeting, its words?"""
    return bool(_AP_NUMBER.search(folded) or _VOCABULARY.search(folded)
                or find_meetings(ctx.plan, folded) or title_words_named(ctx.plan, folded)
                or (_ACHIEVED.search(folded) and re.search(r"\bwir\b", folded))
                or _SHORT_AGENDA.search(folded) or _HOW_FAR.search(folded)
                or _WHO_REPORTED.search(folded))


def asks_about_plan(ctx: Context, text: str) -> bool:
    """A message in the group that asks apbot without naming it: a question about the plan.

    "Wann ist die nächste BiKo?" is one; "Wer bringt morgen Kuchen mit?" and "Kannst du mir
    den Stand zu AP 3 schicken?" (to a colleague) are not.
    """
    asked = _question_part(_clean(text))
    if asked is None:
        return False
    folded = norm(asked)
    return not _TO_COLLEAGUES.search(folded) and about_plan(ctx, folded)


def asks(ctx: Context, msg: Incoming) -> bool:
    """Does an addressed message ask (or request) rather than report?

    "@apbot Status AP 11" and "Wie steht AP 7" ask; "Bot, AP3: 60 %" reports.
    """
    text = _clean(msg.text)
    if _question_part(text) is not None:
        return True
    return bool(_REQUEST_START.match(norm(text)) and not re.search(r"[:%]", text))


NOT_IN_PLAN = (
    "Das steht nicht im Plan{why} – dazu kann ich nichts sagen, ohne zu raten. Aus dem Plan "
    "beantworte ich zum Beispiel: „Wann ist die nächste BiKo?“ · „Wie steht AP 7?“ · "
    "„Welche Meilensteine hat AP 3?“ · „Was haben wir diesen Monat geschafft?“ · "
    "„Wann ist die nächste Steuerungsgruppe?“ /hilfe zeigt alles."
)
# Things people ask about that the plan does not hold, with what to say about them.
_OUTSIDE = (
    (re.compile(r"\b(?:budget\w*|geld\w*|kosten\w*|euro|eur|finanz\w*|fordermittel\w*|mittel"
                r"|ausgaben|haushalt\w*)\b"), " (Geld, Budget und Kosten führt er nicht)"),
    (re.compile(r"\b(?:teilnehm\w*|anmeldung\w*|angemeldet|gaste?)\b"),
     " (Teilnehmende und Anmeldungen führt er nicht)"),
    (re.compile(r"^(?:\w+\s+)?(?:wo|wohin|welche[nmrs]?\s+(?:ort|raum|saal))\b(?!\s+steh)"),
     " (Orte und Räume führt er nicht)"),
    (re.compile(r"^(?:\w+\s+)?(?:warum|wieso|weshalb)\b"),
     " (Gründe führt er nicht; was gemeldet wurde, zeigt /verlauf mit dem Arbeitspaket)"),
)


def not_in_plan(folded: str) -> str:
    """The honest answer to a question about the plan that the plan does not answer."""
    why = next((w for pattern, w in _OUTSIDE if pattern.search(folded)), "")
    return NOT_IN_PLAN.format(why=why)


def reply(ctx: Context, msg: Incoming, now: datetime) -> str:
    """The answer to an addressed question; never nothing.

    A question about the plan that the plan does not answer gets the honest
    "Das steht nicht im Plan …", anything else the not-understood line.
    """
    if found := answer(ctx, msg, now):
        return found
    folded = norm(_clean(msg.text))
    return not_in_plan(folded) if folded and about_plan(ctx, folded) else NOT_UNDERSTOOD


# -- the answers ---------------------------------------------------------------------------


def _update_line(u: Update, with_ap: bool) -> str:
    facts = [f for f in (u.state, f"{u.percent} %" if u.percent is not None else None) if f]
    ap = f"AP {u.ap[2:]} · " if with_ap else ""
    said = esc(trim(" ".join(u.text.split()), 160))
    tail = f" <i>({esc(' · '.join(facts))})</i>" if facts else ""
    return f"• {ap}{short_day(u.at.date())} {esc(u.author.name)}: „{said}“{tail}"


def _last_reports(ctx: Context, wp: WorkPackage | None, today: date) -> str:
    """ "Wer hat zuletzt was zu AP 3 gemeldet?": the newest reports with author and date."""
    if wp is not None:
        newest = list(islice((u for u in ctx.store.updates_newest_first(wp.id)
                              if not u.withdrawn), 5))
        if not newest:
            return (f"Zu {esc(wp.label)} ({esc(wp.title)}) ist noch nichts gemeldet. So geht "
                    f"es: „AP{wp.number}: Einladungen verschickt, 60 %“ in den Gruppenchat.")
        return "\n".join([f"<b>Letzte Meldungen zu {esc(wp.label)} · {esc(wp.title)}</b>",
                          *(_update_line(u, False) for u in newest), "",
                          f"Alle Meldungen: /verlauf AP{wp.number}"])
    newest = latest_reports(ctx.store.updates(), 8)
    if not newest:
        return "Es ist noch nichts gemeldet."
    return "\n".join(["<b>Letzte Meldungen</b>", *(_update_line(u, True) for u in newest), "",
                      "Die eines Arbeitspakets: /verlauf AP3"])


def _achieved(ctx: Context, period: Period | None, today: date) -> str:
    """ "Was haben wir im letzten Quartal geschafft?": reports and milestones, by AP."""
    if period is None:
        period = programme_period(ctx.plan)
    if period.start > today:
        return (f"{esc(period.label)} ({period_span(period)}) liegt noch vor uns – geschafft "
                "ist darin noch nichts. Was dann ansteht, zeigt „Was ist "
                f"{esc(period.label)} fällig?“")
    report = period_report(ctx.plan, ctx.store.updates(), ctx.store.marks(), period, today,
                           ctx.store.entries())
    rows = [r for r in report.rows if r.updates or r.reached]
    head = f"<b>Geschafft: {esc(period.label)}</b> ({period_span(period)})"
    if not rows:
        return (f"{head}\nFür diese Zeit sind keine Meldungen und keine erreichten Meilensteine "
                "vermerkt.")
    lines = [head, f"{report.update_count} Meldung{'' if report.update_count == 1 else 'en'} · "
                   f"{report.reached_count} Meilenstein{'' if report.reached_count == 1 else 'e'}"
                   " erreicht"]
    for r in rows:
        lines += ["", f"<b>{esc(r.wp.label)} {esc(r.wp.title)}</b>"]
        lines += [f"🏁 {esc(s.milestone.id)} {esc(s.milestone.title)} – erreicht am "
                  f"{short_day(s.reached_on)}" for s in r.reached if s.reached_on]
        newest = list(reversed(r.updates))[:4]
        lines += [_update_line(u, False) for u in newest]
        if len(r.updates) > len(newest):
            lines.append(f"… und {len(r.updates) - len(newest)} weitere (/verlauf AP{r.wp.number})")
    return "\n".join(lines)


def _kind_of(folded: str) -> tuple[str, str, bool]:
    """(the word, its plural, BiKos only?) of a question about milestones."""
    if _BIKO.search(folded):
        return "BiKo", "BiKos", True
    return "Meilenstein", "Meilensteine", False


def _milestone_count(ctx: Context, folded: str, today: date) -> str:
    """ "Wie viele Meilensteine haben wir erreicht?" """
    _one, _many, biko = _kind_of(folded)
    many = "BiKos" if biko else "Meilensteinen"
    statuses = [s for s in all_milestones(ctx.plan, ctx.store.marks(), today)
                if not biko or _BIKO.search(norm(s.milestone.title))]
    reached = [s for s in statuses if s.reached_on is not None]
    late = [s for s in statuses if s.kind == "überfällig"]
    lines = [f"Als erreicht vermerkt sind <b>{len(reached)} von {len(statuses)}</b> {many} "
             "des Plans."]
    if reached:
        lines.append("Erreicht: " + ", ".join(
            f"{esc(s.milestone.id)} am {short_day(s.reached_on)}" for s in reached
            if s.reached_on))
    open_ones = len(statuses) - len(reached)
    if open_ones:
        lines.append(f"Offen: {open_ones}" + (", davon überfällig: "
                                              + ", ".join(esc(s.milestone.id) for s in late)
                                              if late else "") + ". Alle zeigt /meilensteine.")
    return "\n".join(lines)


def _last_milestone(ctx: Context, folded: str, today: date) -> str:
    """ "Wann war die letzte BiKo?": the last one reached, and those due but not marked."""
    one, _many, biko = _kind_of(folded)
    statuses = [s for s in all_milestones(ctx.plan, ctx.store.marks(), today)
                if not biko or _BIKO.search(norm(s.milestone.title))]
    reached = sorted((s for s in statuses if s.reached_on is not None),
                     key=lambda s: (s.reached_on or s.milestone.due, s.milestone.id))
    missed = [s for s in statuses if s.reached_on is None and s.days_left < 0]
    lines = []
    if reached and reached[-1].reached_on:
        last, when = reached[-1].milestone, reached[-1].reached_on
        lines.append(f"Zuletzt als erreicht vermerkt: <b>{esc(last.id)} {esc(last.title)}</b> "
                     f"(AP {last.ap[2:]}) am {day(when)} – {ago((today - when).days)}.")
    else:
        lines.append(f"Es ist noch {'keine' if biko else 'kein'} {one} als erreicht vermerkt.")
    if missed:
        listed = ", ".join(f"{esc(s.milestone.id)} (fällig {short_day(s.milestone.due)})"
                           for s in missed)
        example = missed[-1].milestone
        lines.append(f"Laut Plan schon fällig, aber nicht als erreicht vermerkt: {listed}. "
                     f"Fand {'eine' if biko else 'einer'} davon statt, schreiben Sie z. B. "
                     f"„{esc(example.title)} am {short_day(example.due)}“.")
    elif not reached:
        lines.append(f"Laut Plan war auch noch {'keine' if biko else 'keiner'} fällig.")
    return "\n".join(lines)


def _meeting_answer(ctx: Context, meetings: list[Meeting], folded: str, period: Period | None,
                    now: datetime) -> str:
    """ "Wann ist die nächste Steuerungsgruppe?", "… war die letzte …", "… im April?" """
    tz, today = ctx.settings.timezone, local_today(ctx, now)
    titles = {m.title for m in meetings}
    name = " / ".join(sorted(titles))
    if period is not None and not re.search(r"\bnachste|\bletzte", folded):
        return meetings_in_text(ctx, period, now, meetings)
    if re.search(r"\bletzte[nrs]?\b|\bwar\b|\bvorige", folded):
        start = min(now, datetime.combine(ctx.plan.programme.last_day, time.max, tz))
        past = [m for m in meetings_between(ctx.plan, tz, start - timedelta(days=400), start)
                if m.title in titles and m.start < now]
        if not past:
            return f"Laut Plan gab es noch keine Sitzung „{esc(name)}“."
        m = past[-1]
        return (f"Die letzte Sitzung „{esc(m.title)}“ war laut Plan am {meeting_time(m)} – "
                f"{ago((today - m.start.astimezone(tz).date()).days)}.")
    ahead = [m for m in meetings_between(ctx.plan, tz, now, now + timedelta(days=400))
             if m.title in titles][:3]
    if not ahead:
        return (f"Laut Plan steht keine Sitzung „{esc(name)}“ mehr an – das Programm "
                f"{'endete' if programme_over(ctx.plan, today) else 'endet'} am "
                f"{day(ctx.plan.programme.last_day)}.")
    first = ahead[0]
    left = (first.start.astimezone(tz).date() - today).days
    text = (f"Nächste Sitzung „{esc(first.title)}“ laut Plan: <b>{meeting_time(first)}</b> – "
            f"{until(left)}.")
    if len(ahead) > 1:
        text += " Danach: " + ", ".join(meeting_time(m) for m in ahead[1:]) + "."
    if any(m.assumed for m in meetings):
        text += " Die Termine im Plan sind angenommen."
    return text


_STATE_QUERY = (
    (re.compile(r"\bverzogert\w*|\bverzug\b|\bverspatet\w*|\bhinterher\b"), "verzögert"),
    (re.compile(r"\bblockiert\w*|\bblockade\w*|\bhangt\b|\bhangen\b|\bstockt\b|\bstocken\b"),
     "blockiert"),
    (re.compile(r"\bzuruckgestellt\w*|\bpausiert\w*|\bruht\b|\bruhen\b"), "zurückgestellt"),
    (re.compile(r"\babgeschlossen\w*|\bfertig\w*|\berledigt\b"), "abgeschlossen"),
)


def _by_state(ctx: Context, wanted: list[str], today: date) -> str:
    """ "Welche APs sind verzögert / blockiert?": by the state last reported."""
    statuses = plan_overview(ctx.plan, ctx.store.updates(), ctx.store.marks(), today)
    hits = [st for st in statuses if st.progress.state in wanted]
    said = " oder ".join(wanted)
    if not hits:
        text = f"Kein Arbeitspaket ist zurzeit als {said} gemeldet (es zählt die letzte Meldung)."
    else:
        lines = [f"<b>Als {said} gemeldet</b>"]
        for st in hits:
            last = st.progress.last_update
            when = f", letzte Meldung {short_day(last.date())}" if last else ""
            lines.append(f"• {esc(st.wp.label)} {esc(st.wp.title)} – {esc(st.progress.state or '')}"
                         f"{when}")
        text = "\n".join(lines)
    late = sum(1 for st in statuses for m in st.milestones if m.kind == "überfällig")
    if late and "abgeschlossen" not in wanted:
        text += (f"\nÜberfällige Meilensteine laut Plan: {late} – siehe /ueberfaellig.")
    return text


_PHASE_PLURAL = {"läuft": "laufen", "beendet": "beendet", "nicht begonnen": "nicht begonnen"}


def _overall(ctx: Context, today: date) -> str:
    """ "Wie weit sind wir insgesamt?" """
    o = overall(ctx.plan, ctx.store.updates(), ctx.store.marks(), today)
    prog = ctx.plan.programme
    if o.days_left < 0:
        when = f"Das Programm ({prog.start} – {prog.end}) endete am {day(prog.last_day)}."
    else:
        n = f"Quartal {o.quarter_of_span[0]} von {o.quarter_of_span[1]}" \
            if o.quarter_of_span else "vor dem Beginn"
        when = (f"Laufzeit: {n} ({prog.start} – {prog.end}), noch {o.days_left} Tage bis zum "
                f"Programmende.")
    lines = [f"<b>Stand insgesamt</b> ({day(today)})", when,
             f"Meilensteine: {o.reached} von {o.milestones} erreicht"
             + (f" · {o.overdue} überfällig" if o.overdue else ""),
             "Arbeitspakete laut Plan: " + " · ".join(
                 f"{n} {_PHASE_PLURAL[p] if n > 1 else p}" for p, n in o.phases.items() if n)]
    if o.reported:
        states = " · ".join(f"{o.states[s]} {s}" for s in STATES if s in o.states)
        lines.append(f"Gemeldet: {o.reported} von {len(ctx.plan.work_packages)} "
                     f"Arbeitspaketen" + (f" – {states}" if states else ""))
        if o.mean_percent is not None:
            lines.append(f"Im Mittel {o.mean_percent} % (bei {o.with_percent} mit Prozentangabe)")
    else:
        lines.append("Gemeldet: noch keine Meldung zu einem Arbeitspaket.")
    lines += ["", "Einzelheiten: /plan · /meilensteine · /ueberfaellig"]
    return "\n".join(lines)


_IMPOSSIBLE_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(\d{4}|\d{2})?(?!\d)")
_REPORTS_WHO = re.compile(r"\bgemeldet\b|\bmeldung\w*|\bberichtet\b|\bgeschrieben\b|\bzuletzt\b")
_WHEN_NEXT = re.compile(r"\bnachste[nrs]?\b|\bwann\b|\bwie\s*viele\s+tage\b"
                        r"|\bwie\s+lange\s+noch\b|\bbis\s+zu[rm]\b")
_LAST = re.compile(r"\bletzte[nrs]?\b|\bvorige[nrs]?\b|\bwar\b|\bfand\b.*\bstatt\b")


def answer(ctx: Context, msg: Incoming, now: datetime) -> str | None:
    """The answer to a question addressed to apbot, or None when it is not one we know."""
    text = _clean(msg.text)
    folded = norm(text)  # patterns below are written in this form: no umlauts, "ue" → "u"
    if not folded:
        return None
    today = local_today(ctx, now)
    back = bool(_LOOK_BACK.search(folded))
    try:
        # "im Januar" asked in December is next January; in a look-back, the last one
        period = read_period(text, today, "back" if back else "ahead")
    except YearOutOfRange as err:  # "Was ist im Dezember 9999 fällig?"
        return year_out_of_range(ctx, err.year)
    if period is None and (bad := _IMPOSSIBLE_DATE.search(text)):
        return (f"Den {esc(bad.group(0))} gibt es im Kalender nicht – bitte das Datum prüfen, "
                "z. B. „Was ist am 15.03.2027 fällig?“")
    if not _AP_NUMBER.search(folded) and _PROGRAMME.search(folded) and _WHEN_ENDS.search(folded):
        return _programme_span(ctx, now)  # before the title words: "lange" is in "lebenslangen"
    wp = work_package_in(ctx, folded)
    if isinstance(wp, int):
        return f"AP {wp} gibt es nicht – der Plan hat {ctx.plan.ap_range}."
    # Named for sure (by number or a long title word), not by a loose part of a title
    # ("offen" is in "Öffentlichkeitsarbeit"): only such an AP narrows the newer answers.
    sure = wp if wp is not None and (_AP_NUMBER.search(folded)
                                     or wp in title_words_named(ctx.plan, folded)) else None
    if any(pattern.search(folded) for pattern, _why in _OUTSIDE):
        return not_in_plan(folded)
    if (re.search(r"\bwer\b", folded) and _REPORTS_WHO.search(folded)) or (
            sure is not None and re.search(r"\bzuletzt\b|\bletzte\w*\s+meldung", folded)):
        return _last_reports(ctx, sure, today)
    if wp is None and re.search(r"\b(?:ich|mich)\b", folded) and re.search(
            r"zustandig|verantwortlich", folded):
        return _mine(ctx, msg)  # "Wofür bin ich zuständig?"
    if wp is not None and re.search(r"zustandig|verantwortlich|\bwer\b|leitet|leitung", folded):
        return _lead(ctx, wp)
    if re.search(r"\bwie\s*viele\b", folded) and ("meilenstein" in folded or _BIKO.search(folded)) \
            and not re.search(r"\btage?\b|\bwochen?\b", folded):
        return _milestone_count(ctx, folded, today)
    if (mid := _MILESTONE_ID.search(folded)) and (ms := ctx.plan.milestone(f"M{mid.group(1)}")):
        status = next(s for s in all_milestones(ctx.plan, ctx.store.marks(), today)
                      if s.milestone.id == ms.id)
        return f"{milestone_line(status)} (AP {ms.ap[2:]})"
    if _ACHIEVED.search(folded) and sure is None:
        return _achieved(ctx, period, today)
    if _LAST.search(folded) and ("meilenstein" in folded or _BIKO.search(folded)):
        return _last_milestone(ctx, folded, today)
    meetings = find_meetings(ctx.plan, folded)
    if meetings and sure is None:
        return _meeting_answer(ctx, meetings, folded, period, now)
    if _WHEN_NEXT.search(folded) and (_BIKO.search(folded) or "meilenstein" in folded):
        return _next_milestone(ctx, folded, now)
    wanted = [state for pattern, state in _STATE_QUERY if pattern.search(folded)]
    if wanted and sure is None and re.search(r"\baps?\b|\barbeitspaket\w*|^welche|^wer\b", folded):
        return _by_state(ctx, wanted, today)
    if re.search(r"uberfallig|verspatet|im verzug|hinterher", folded):
        return overdue_text(ctx, now, sure)
    if "meilenstein" in folded:
        if sure is not None:
            return ap_milestones_text(ctx, sure, today, period if period and
                                      period.kind != "day" else None)
        return _open_milestones(ctx, period if period and period.kind != "day" else None, now)
    if sure is None and _HOW_FAR.search(folded):
        return _overall(ctx, today)
    if wp is not None:
        progress = latest_progress(ctx.store.updates_newest_first(wp.id))
        st = ap_status(ctx.plan, wp, progress, ctx.store.marks(), today)
        return status_view(st, today)
    if re.search(r"\btermin|sitzung|treffen|jour fixe|steuerungsgruppe", folded) and (
            period is None):
        return meetings_command(ctx, msg, "", now)
    if period is not None:
        if period.kind == "day" and re.search(r"\blauft|laufen\b", folded):
            return _running(ctx, period, today)
        return answer_period(ctx, period, now)
    return None
