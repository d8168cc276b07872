"""Pure questions about the plan and the progress log; every one takes `today`."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from workflows.plan import Meeting, Milestone, Plan, WorkPackage
from workflows.progress import (
    APProgress,
    MilestoneMark,
    Update,
    ap_progress,
    order_key,
    reached_milestones,
)
from workflows.quarters import span_position

DUE_SOON_DAYS = 90


@dataclass(frozen=True)
class MilestoneStatus:
    milestone: Milestone
    reached_on: date | None
    days_left: int  # negative when overdue
    # The programme ended before the as-of day: an open milestone is no longer "overdue
    # since n days" but was not reached within the programme.
    closed: bool = False

    @property
    def kind(self) -> str:
        """One of: erreicht, überfällig, bald, offen."""
        if self.reached_on is not None:
            return "erreicht"
        if self.days_left < 0:
            return "überfällig"
        return "bald" if self.days_left <= DUE_SOON_DAYS else "offen"


@dataclass(frozen=True)
class APStatus:
    wp: WorkPackage
    phase: str  # "nicht begonnen", "läuft", "beendet"
    quarter_of_span: tuple[int, int] | None
    progress: APProgress
    milestones: tuple[MilestoneStatus, ...]
    programme_end: date | None = None  # the programme's last day, to speak of it afterwards

    @property
    def reached_count(self) -> int:
        return sum(1 for m in self.milestones if m.reached_on is not None)


def milestone_status(m: Milestone, reached: Mapping[str, date], today: date,
                     programme_end: date | None = None) -> MilestoneStatus:
    """Where `m` stands on `today`; `closed` once `today` lies after `programme_end`."""
    closed = programme_end is not None and today > programme_end
    return MilestoneStatus(m, reached.get(m.id), (m.due - today).days, closed)


def programme_over(plan: Plan, today: date) -> bool:
    """True once the programme's last day lies behind `today`."""
    return today > plan.programme.last_day


def ap_status(plan: Plan, wp: WorkPackage, progress: APProgress,
              marks: Iterable[MilestoneMark], today: date) -> APStatus:
    """Where one AP stands on `today`: plan phase, reported progress, milestones."""
    if today < wp.start.first_day:
        phase = "nicht begonnen"
    elif today > wp.end.last_day:
        phase = "beendet"
    else:
        phase = "läuft"
    reached = reached_milestones(marks)
    last_day = plan.programme.last_day
    return APStatus(
        wp, phase, span_position(wp.start, wp.end, today), progress,
        tuple(milestone_status(m, reached, today, last_day) for m in plan.milestones_of(wp.id)),
        last_day,
    )


def plan_overview(plan: Plan, updates: Iterable[Update], marks: Iterable[MilestoneMark],
                  today: date) -> list[APStatus]:
    """The status of every AP, in plan order."""
    by_ap: dict[str, list[Update]] = {}
    for u in updates:
        by_ap.setdefault(u.ap, []).append(u)
    marks = list(marks)
    return [ap_status(plan, wp, ap_progress(by_ap.get(wp.id, [])), marks, today)
            for wp in plan.work_packages]


# -- finding an AP from what people type ---------------------------------------

_AP_REF = re.compile(r"^(?:ap|arbeitspaket)?\s*0*(\d{1,3})$")


def fold(text: str) -> str:
    """Lower-case, without accents or ß, for forgiving matching."""
    # Titles and short message pieces are folded again and again; long messages are
    # folded once and not kept.
    return _fold_short(text) if len(text) <= 200 else _fold(text)


def _fold(text: str) -> str:
    text = text.casefold().replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_fold_short = functools.lru_cache(maxsize=4096)(_fold)


def norm(text: str) -> str:
    """`fold`, and "ae"/"oe"/"ue" as people type umlauts without a German keyboard.

    Apply it to both sides of a comparison: "Steuerung" becomes "steurung" too."""
    return fold(text).replace("ae", "a").replace("oe", "o").replace("ue", "u")


@dataclass(frozen=True)
class APLookup:
    """The result of finding an AP: exactly one, several candidates, or a number not in the plan."""

    found: WorkPackage | None = None
    candidates: tuple[WorkPackage, ...] = ()
    unknown_number: int | None = None


def find_work_package(plan: Plan, query: str) -> APLookup:
    """Find an AP by "AP3", "ap 3", "3", "Arbeitspaket 3" or words of its title."""
    cleaned = " ".join(query.strip().lower().replace("#", "").split())
    if m := _AP_REF.match(cleaned):
        number = int(m.group(1))
        wp = plan.work_package(f"AP{number}")
        return APLookup(found=wp) if wp else APLookup(unknown_number=number)
    words = [w for w in re.findall(r"\w+", fold(cleaned)) if len(w) >= 3]
    if not words:
        return APLookup()
    hits = tuple(wp for wp in plan.work_packages
                 if all(w in fold(wp.title) for w in words))
    if not hits:  # fall back to the descriptions
        hits = tuple(wp for wp in plan.work_packages
                     if all(w in fold(f"{wp.title} {wp.description}") for w in words))
    if len(hits) == 1:
        return APLookup(found=hits[0])
    return APLookup(candidates=hits)


def find_meetings(plan: Plan, folded: str) -> list[Meeting]:
    """The plan's meetings a `norm`-ed text names: "Steuerungsgruppe", "Jour fixe".

    A meeting is named by a long word of its title or id (8 letters or more, also
    inflected: "Steuerungsgruppen") or by two of its title's words in a row ("Jour fixe",
    "Jourfixe"); short common words like "Bildung" name none.
    """
    found = []
    for m in plan.meetings:
        words = re.findall(r"\w+", norm(f"{m.title} {m.id.replace('-', ' ')}"))
        names = {w for w in words if len(w) >= 8}
        names |= {f"{a} {b}" for a, b in itertools.pairwise(words)}
        names |= {f"{a}{b}" for a, b in itertools.pairwise(words)}
        if any(re.search(rf"\b{re.escape(n)}", folded) for n in names):
            found.append(m)
    return found


def title_words_named(plan: Plan, folded: str) -> list[WorkPackage]:
    """APs named by a distinctive word of their title ("Bildungsportal", "Netzwerkarbeit").

    Stricter than `find_work_package`: only title words of 8 letters or more count, whole
    or inflected ("Bildungsportals"), so that "lernen" or "Aufbau" in a colleague's
    question name no AP.
    """
    said = [w for w in re.findall(r"\w+", folded) if len(w) >= 5]
    hits = []
    for wp in plan.work_packages:
        titled = [t for t in re.findall(r"\w+", norm(wp.title)) if len(t) >= 8]
        if any(w.startswith(t) or (len(w) >= 8 and t.startswith(w))
               for w in said for t in titled):
            hits.append(wp)
    return hits


def latest_reports(updates: Iterable[Update], count: int) -> list[Update]:
    """The `count` newest reports that are not withdrawn, newest first."""
    live = [u for u in updates if not u.withdrawn]
    return sorted(live, key=order_key, reverse=True)[:count]


@dataclass(frozen=True)
class Overall:
    """The whole programme at a glance on one day."""

    quarter_of_span: tuple[int, int] | None  # (8, 10): quarter 8 of the programme's 10
    days_left: int  # until the programme's last day; negative once it is over
    milestones: int
    reached: int
    overdue: int
    phases: dict[str, int]  # "läuft" → 11, "beendet" → 2, "nicht begonnen" → 0
    states: dict[str, int]  # reported state → number of APs
    reported: int  # APs with at least one report
    mean_percent: int | None  # over the APs that reported a percentage
    with_percent: int


def overall(plan: Plan, updates: Iterable[Update], marks: Iterable[MilestoneMark],
            today: date) -> Overall:
    """How far the programme is on `today`: time, milestones, APs by plan and by report."""
    statuses = plan_overview(plan, updates, marks, today)
    milestones = [m for st in statuses for m in st.milestones]
    phases = {p: sum(1 for st in statuses if st.phase == p)
              for p in ("läuft", "beendet", "nicht begonnen")}
    states: dict[str, int] = {}
    for st in statuses:
        if st.progress.state:
            states[st.progress.state] = states.get(st.progress.state, 0) + 1
    percents = [st.progress.percent for st in statuses if st.progress.percent is not None]
    prog = plan.programme
    return Overall(
        span_position(prog.start, prog.end, today), (prog.last_day - today).days,
        len(milestones), sum(1 for m in milestones if m.reached_on is not None),
        sum(1 for m in milestones if m.kind == "überfällig"), phases, states,
        sum(1 for st in statuses if st.progress.last_update is not None),
        round(sum(percents) / len(percents)) if percents else None, len(percents),
    )
