"""German HTML renderings of the engine's answers."""

from __future__ import annotations

from datetime import date

from bot.render.format import ago, day, esc, short_day, trim, until
from workflows.plan import Plan, WorkPackage
from workflows.queries import APStatus, MilestoneStatus

MARK = {"erreicht": "✅", "überfällig": "⚠️", "bald": "⏳", "offen": "▫️"}


def milestone_line(ms: MilestoneStatus) -> str:
    m = ms.milestone
    head = f"{MARK[ms.kind]} {esc(m.id)} {esc(m.title)}"
    if ms.reached_on is not None:
        return f"{head} – erreicht am {short_day(ms.reached_on)}"
    if ms.closed:  # after the programme: no "overdue for 600 days" that grows forever
        return f"{head} – war fällig am {day(m.due)} – nicht als erreicht vermerkt"
    due = f"fällig {day(m.due)}"
    if ms.kind == "offen":
        return f"{head} – {due} – offen"
    return f"{head} – {due} – {until(ms.days_left)}"


def phase_text(st: APStatus, today: date | None = None) -> str:
    """Where the AP stands in its span; in the past tense once the programme is over."""
    if st.phase == "läuft":
        if st.quarter_of_span:
            n, total = st.quarter_of_span
            return f"läuft laut Plan – Quartal {n} von {total}"
        return "läuft laut Plan"
    if st.phase == "nicht begonnen":
        return f"beginnt laut Plan {day(st.wp.start.first_day)}"
    end, programme_end = st.wp.end.last_day, st.programme_end
    if programme_end is not None and today is not None and today > programme_end:
        if end >= programme_end:
            return f"endete laut Plan am {day(end)}, mit dem Ende des Programms"
        return f"endete laut Plan am {day(end)} · Programm beendet am {day(programme_end)}"
    return f"laut Plan beendet seit {day(end)}"


def programme_ended_text(programme_end: date) -> str:
    """The line that says the programme is over and what is left to do."""
    return (f"Das Programm endete am {day(programme_end)}. Den Abschlussbericht über die ganze "
            "Laufzeit schickt /bericht, den des letzten Jahres "
            f"/bericht {programme_end.year}.")


def reported_text(st: APStatus, today: date) -> str:
    p = st.progress
    if p.last_update is None:
        return "noch keine Meldung"
    parts = [p.state or "ohne Zustand"]
    if p.percent is not None:
        parts.append(f"{p.percent} %")
    return f"{' · '.join(parts)} (letzte Meldung {ago((today - p.last_update.date()).days)})"


def span_text(wp: WorkPackage) -> str:
    span = f"{wp.start} – {wp.end}"
    return f"{span} (angenommen, vom Team noch nicht bestätigt)" if wp.assumed else span


def status_view(st: APStatus, today: date) -> str:
    wp = st.wp
    lines = [
        f"<b>{esc(wp.label)} · {esc(wp.title)}</b>",
    ]
    if wp.description:
        lines.append(f"<i>{esc(trim(wp.description, 600))}</i>")
    lines += [
        "",
        f"Zeitraum: {span_text(wp)}",
        f"Heute: {phase_text(st, today)}",
        f"Gemeldeter Stand: {esc(reported_text(st, today))}",
        f"Zuständig: {esc(wp.lead) if wp.lead else 'noch nicht festgelegt'}",
    ]
    if st.milestones:
        lines += ["", f"<b>Meilensteine</b> ({st.reached_count} von {len(st.milestones)} erreicht)"]
        lines += [milestone_line(ms) for ms in st.milestones]
    if st.progress.recent:
        lines += ["", "<b>Letzte Meldungen</b>"]
        for u in st.progress.recent:
            lines.append(f"• {short_day(u.at.date())} {esc(u.author.name)}: "
                         f"{esc(trim(' '.join(u.text.split()), 300))}")
    return "\n".join(lines)


def plan_line(st: APStatus) -> str:
    wp = st.wp
    if st.phase == "läuft" and st.quarter_of_span:
        phase = "läuft ({}/{})".format(*st.quarter_of_span)
    else:
        phase = st.phase
    parts = [f"<b>{esc(wp.label)}</b> {esc(trim(wp.title, 60))}", f"{wp.start}–{wp.end}", phase]
    if st.progress.state or st.progress.percent is not None:
        reported = [st.progress.state or ""]
        if st.progress.percent is not None:
            reported.append(f"{st.progress.percent} %")
        parts.append("gemeldet: " + " ".join(r for r in reported if r))
    if st.milestones:
        overdue = sum(1 for m in st.milestones if m.kind == "überfällig")
        late = "nicht erreicht" if any(m.closed for m in st.milestones) else "überfällig"
        text = f"Meilensteine {st.reached_count}/{len(st.milestones)}"
        parts.append(text + (f" ⚠️ {overdue} {late}" if overdue else ""))
    return " · ".join(parts)


def plan_view(plan: Plan, statuses: list[APStatus], today: date) -> str:
    head = f"<b>{esc(plan.programme.name)}</b> – Stand {day(today)}"
    if today > plan.programme.last_day:
        head += "\n" + programme_ended_text(plan.programme.last_day)
    return "\n".join([head, "", *(plan_line(st) for st in statuses)])
