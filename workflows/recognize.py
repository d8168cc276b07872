"""Reading progress reports out of ordinary German chat messages.

Pure functions: text in, what it reports out. The rules are deliberately
conservative: a message that is a question, or a state word under a
negation ("noch nicht fertig"), reports nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from workflows.plan import Milestone, Plan
from workflows.queries import fold

# "AP3", "AP 3", "#AP3", "AP03", "Arbeitspaket 3", then "+ AP8", "/8", "& 8", "und AP 9", ", AP 10"
_AP_HEAD = r"(?<![\w])#?(?:ap|arbeitspakete?)\s*0*(\d{1,3})(?![\d,.]*\s*(?:%|prozent))"
_AP_MORE = (r"\s*(?:(?:/|\+|&|\bund\b)\s*(?:#?ap\s*|arbeitspaket\s*)?"
            r"|,\s*(?:#?ap\s*|arbeitspaket\s*))0*(\d{1,3})\b(?!\s*(?:%|prozent))")
AP_GROUP = re.compile(_AP_HEAD + f"(?:{_AP_MORE})*", re.IGNORECASE)
AP_MORE = re.compile(_AP_MORE, re.IGNORECASE)

PERCENT = re.compile(r"(?<![\d.,])(\d{1,3})(?:[.,]\d+)?\s*(?:%|prozent\b|v\.\s?h\.)",
                     re.IGNORECASE)

# folded state words (see `fold`): stem → state
STATE_WORDS: tuple[tuple[str, str], ...] = (
    (r"blockiert\w*|blockade", "blockiert"),
    (r"verzogert\w*|verzogerung\w*|(?:im\s+)?verzug|gefahrdet|verschoben", "verzögert"),
    (r"zuruckgestellt|pausiert|ruht", "zurückgestellt"),
    (r"lauft|laeuft|laufen|laufend|begonnen|in\s+arbeit|gestartet|angelaufen", "läuft"),
    (r"abgeschlossen|erledigt|fertig(?:gestellt)?|beendet", "abgeschlossen"),
)
# When one report carries several state words, the one that needs attention wins;
# "Konzept fertig, Umsetzung läuft" means the AP is still running.
STATE_PRIORITY = ("blockiert", "verzögert", "zurückgestellt", "läuft", "abgeschlossen")
_STATE_RES = tuple((re.compile(rf"\b(?:{p})\b"), s) for p, s in STATE_WORDS)

NEGATION = re.compile(r"\b(?:nicht|nie|kein|keine|keinen|keiner|ohne|noch\s+nicht)\s+"
                      r"(?:\w+\s+){0,2}$")

# A milestone counts as reached only with one of these (not negated).
REACHED = (r"beschlossen|stattgefunden|fand\s+\w*\s*statt|erreicht|fertig(?:gestellt)?|"
           r"abgeschlossen|erledigt|vorgelegt|veroffentlicht|verabschiedet|geschafft|"
           r"durchgefuhrt|eingereicht|ist\s+raus")
REACHED_RE = re.compile(rf"\b(?:{REACHED})\b")
# Words of milestone titles that are verbs or filler, not what the milestone is about.
TITLE_NOISE = {"hat", "ist", "wurde", "der", "die", "das", "beschlossen", "stattgefunden",
               "statt", "gefunden"}
_BIKO = ("biko", "bildungskonferenz")
SYNONYMS = {"biko": _BIKO, "bildungskonferenz": _BIKO}
MILESTONE_ID = re.compile(r"\b(?:meilenstein\s+)?m?\s?(\d{1,2}\.\d{1,2})\b")

QUESTION_WORDS = ("wie", "was", "wann", "wer", "wo", "welche", "welcher", "welches", "welchen",
                  "warum", "wieso", "weshalb", "weiss", "gibt")
DATE_RE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})\b)?")


@dataclass(frozen=True)
class APReport:
    """What one message says about one work package."""

    ap: str
    state: str | None = None
    percent: int | None = None


@dataclass(frozen=True)
class Recognized:
    """Everything a message reports."""

    aps: tuple[APReport, ...] = ()
    unknown_aps: tuple[int, ...] = ()
    milestones: tuple[str, ...] = ()  # milestone ids, resolved against what is already reached
    all_reached: tuple[str, ...] = ()  # milestone titles named whose every instance is reached
    reached_on: date | None = None  # a date written in the message
    is_question: bool = False

    @property
    def reports_anything(self) -> bool:
        return bool(self.aps or self.milestones or self.unknown_aps or self.all_reached)


def is_question(text: str) -> bool:
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    first = re.match(r"\w+", fold(stripped))
    return bool(first and first.group(0) in QUESTION_WORDS)


def _negated(folded: str, start: int) -> bool:
    return bool(NEGATION.search(folded[max(0, start - 40):start]))


def states_in(text: str) -> str | None:
    """The state a piece of text reports, ignoring negated words."""
    folded = fold(text)
    found = {state for pattern, state in _STATE_RES
             for m in pattern.finditer(folded) if not _negated(folded, m.start())}
    return next((s for s in STATE_PRIORITY if s in found), None)


def percent_in(text: str) -> int | None:
    """The last percentage 0–100 in the text."""
    values = [int(m.group(1)) for m in PERCENT.finditer(text)
              if int(m.group(1)) <= 100 and not _negated(fold(text), m.start())]
    return values[-1] if values else None


def ap_mentions(text: str) -> list[tuple[list[int], int, int]]:
    """Groups of AP numbers with the span of their mention: ([3, 8], start, end)."""
    groups = []
    for m in AP_GROUP.finditer(text):
        numbers = [int(m.group(1))]
        numbers += [int(n) for n in AP_MORE.findall(text, m.end(1), m.end())]
        groups.append((numbers, m.start(), m.end()))
    return groups


def _segments(text: str, groups: list[tuple[list[int], int, int]]) -> list[tuple[list[int], str]]:
    """Each AP group with the text that speaks about it: up to the next group."""
    out = []
    for i, (numbers, start, end) in enumerate(groups):
        stop = groups[i + 1][1] if i + 1 < len(groups) else len(text)
        before = text[:start] if i == 0 else ""
        out.append((numbers, before + " " + text[end:stop]))
    return out


def written_date(text: str, today: date) -> date | None:
    """A date written in the message ("12.06.2026", "12.6.", "gestern"), if any."""
    folded = fold(text)
    if re.search(r"\bvorgestern\b", folded):
        return today - timedelta(days=2)
    if re.search(r"\bgestern\b", folded):
        return today - timedelta(days=1)
    for m in DATE_RE.finditer(text):
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = today.year if y is None else int(y) + (2000 if len(y) == 2 else 0)
        try:
            found = date(year, mo, d)
        except ValueError:
            continue
        if y is None and found > today:
            found = date(year - 1, mo, d) if not (mo == 2 and d == 29) else found
        return found
    return None


def _title_words(title: str) -> list[tuple[str, ...]]:
    words = [w for w in re.findall(r"\w+", fold(title)) if w not in TITLE_NOISE]
    return [SYNONYMS.get(w, (w,)) for w in words]


def _names_title(folded: str, m: Milestone) -> bool:
    return all(any(re.search(rf"\b{re.escape(v)}", folded) for v in alts)
               for alts in _title_words(m.title))


def _reached_said(folded: str) -> bool:
    return any(not _negated(folded, m.start()) for m in REACHED_RE.finditer(folded))


def milestones_in(text: str, plan: Plan,
                  reached: Mapping[str, date]) -> tuple[list[str], list[str]]:
    """(milestone ids reported reached, titles whose every instance is already reached)."""
    folded = fold(text)
    if not _reached_said(folded):
        return [], []
    ids: list[str] = []
    exhausted: list[str] = []
    for m in MILESTONE_ID.finditer(folded):
        ms = plan.milestone(f"M{m.group(1)}")
        if ms and ms.id not in ids and ("meilenstein" in m.group(0) or m.group(0).startswith("m")):
            ids.append(ms.id)
    if ids:
        return ids, []
    by_title: dict[str, list[Milestone]] = {}
    for ms in plan.milestones:
        by_title.setdefault(ms.title, []).append(ms)
    for title, group in by_title.items():
        if not _names_title(folded, group[0]):
            continue
        open_ones = sorted((ms for ms in group if ms.id not in reached), key=lambda ms: ms.due)
        if open_ones:
            ids.append(open_ones[0].id)
        else:
            exhausted.append(title)
    return ids, exhausted


def recognize(text: str, plan: Plan, reached: Mapping[str, date], today: date) -> Recognized:
    """What a chat message reports: AP states and progress, milestones reached, and when."""
    if not text.strip() or is_question(text):
        return Recognized(is_question=bool(text.strip()))
    groups = ap_mentions(text)
    known: dict[str, APReport] = {}
    unknown: list[int] = []
    for numbers, segment in _segments(text, groups):
        state, percent = states_in(segment), percent_in(segment)
        for n in numbers:
            ap_id = f"AP{n}"
            if plan.work_package(ap_id) is None:
                if n not in unknown:
                    unknown.append(n)
            elif ap_id not in known:
                known[ap_id] = APReport(ap_id, state, percent)
    ids, exhausted = milestones_in(text, plan, reached)
    return Recognized(
        aps=tuple(known.values()), unknown_aps=tuple(unknown), milestones=tuple(ids),
        all_reached=tuple(exhausted),
        reached_on=written_date(text, today) if ids else None,
    )
