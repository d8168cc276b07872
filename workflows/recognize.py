"""Reading progress reports out of ordinary German chat messages.

Pure functions: text in, what it reports out. The rules are deliberately
conservative: a question reports nothing, a state word under a negation
("noch nicht fertig", "läuft noch nicht") sets nothing, and a milestone counts
only when its own verb ("beschlossen", "stattgefunden") stands in the same
sentence as its name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from workflows.plan import Milestone, Plan
from workflows.queries import fold, norm

# "AP3", "AP 3", "#AP3", "AP03", "Arbeitspaket 3", then "+ AP8", "/8", "& 8", "und 9", ", AP 10"
_AP_HEAD = r"(?<![\w])#?(?:ap|arbeitspakete?)\s*0*(\d{1,3})(?!\d)(?![\d,.]*\s*(?:%|prozent))"
_AP_MORE = (r"\s*(?:(?:/|\+|&|,|\bund\b)\s*(?:#?ap\s*|arbeitspaket\s*)?)"
            r"0*(\d{1,3})\b(?![.,]?\d)(?!\s*(?:%|prozent|uhr|termin|tag|woche))")
AP_GROUP = re.compile(_AP_HEAD + f"(?:{_AP_MORE})*", re.IGNORECASE)
AP_MORE = re.compile(_AP_MORE, re.IGNORECASE)

PERCENT = re.compile(r"(?<![\d.,])(\d{1,3})(?:[.,]\d+)?\s*(?:%|prozent\b|v\.\s?h\.)",
                     re.IGNORECASE)

# State words, written as they look after `norm` (no umlauts, ae/oe/ue folded too).
STATE_WORDS: tuple[tuple[str, str], ...] = (
    (r"blockiert\w*|blockade", "blockiert"),
    (r"verzogert\w*|verzogerung\w*|(?:im\s+)?verzug|gefahrdet|verschoben", "verzögert"),
    (r"zuruckgestellt|pausiert|ruht", "zurückgestellt"),
    (r"lauft|laufen|laufend|begonnen|in\s+arbeit|gestartet|angelaufen", "läuft"),
    (r"abgeschlossen|erledigt|fertig(?:gestellt)?|beendet", "abgeschlossen"),
)
# When one report carries several state words, the one that needs attention wins;
# "Konzept fertig, Umsetzung läuft" means the AP is still running.
STATE_PRIORITY = ("blockiert", "verzögert", "zurückgestellt", "läuft", "abgeschlossen")
_STATE_RES = tuple((re.compile(rf"\b(?:{p})\b"), s) for p, s in STATE_WORDS)

# "nicht fertig", "noch nicht ganz fertig", "kein Verzug", "ohne Verzug" – "ohne" reaches
# only the next word, so "ohne Verzug abgeschlossen" is still abgeschlossen.
NEGATION_BEFORE = re.compile(r"(?:\b(?:nicht|nie|kein\w*)\s+(?:\w+\s+)?|\bohne\s+)$")
NEGATION_AFTER = re.compile(r"^\s+(?:\w+\s+)?nicht\b")

# Verbs that say a milestone happened, by the verb in its title; titles without a
# verb ("Bericht Fachkräfte") take the general ones.
VERB_FAMILIES = {
    "beschlossen": r"beschlossen|verabschiedet",
    "stattgefunden": r"stattgefunden|fand\s+(?:\w+\s+){0,4}statt|durchgefuhrt",
}
DONE_VERBS = (r"fertig(?:gestellt)?|abgeschlossen|erledigt|vorgelegt|veroffentlicht|"
              r"eingereicht|erstellt|ist\s+raus|erreicht|geschafft")
TITLE_NOISE = {"hat", "ist", "wurde", "der", "die", "das", "statt", "gefunden"}
_BIKO = ("biko", "bildungskonferenz")
SYNONYMS = {"biko": _BIKO, "bildungskonferenz": _BIKO}
MILESTONE_ID = re.compile(r"(?:\bmeilenstein\s+m?\s?|\bm)(\d{1,2}\.\d{1,2})(?!\d)")
SENTENCE_END = re.compile(r"(?<!\d)[.!?;](?:\s|$)|\n")

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
    all_reached: tuple[str, ...] = ()  # milestones named that are already reached (ids)
    reached_on: date | None = None  # a date written in the message
    is_question: bool = False

    @property
    def reports_anything(self) -> bool:
        return bool(self.aps or self.milestones or self.unknown_aps or self.all_reached)


def is_question(text: str) -> bool:
    """Ends with "?", or opens with a question word and has no other sentence mark."""
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    first = re.match(r"\w+", fold(stripped))
    return bool(first and first.group(0) in QUESTION_WORDS and not re.search(r"[.!:]", stripped))


def _negated(text: str, start: int, end: int) -> bool:
    """Is the word at text[start:end] negated before or right after it?"""
    return bool(NEGATION_BEFORE.search(norm(text[max(0, start - 40):start]))
                or NEGATION_AFTER.search(norm(text[end:end + 30])))


def percent_in(text: str) -> int | None:
    """The last percentage 0–100 in the text."""
    values = [int(m.group(1)) for m in PERCENT.finditer(text)
              if int(m.group(1)) <= 100 and not _negated(text, m.start(), m.end())]
    return values[-1] if values else None


def states_in(text: str) -> str | None:
    """The state a piece of text reports, ignoring negated words."""
    normed = norm(text)
    found = {state for pattern, state in _STATE_RES
             for m in pattern.finditer(normed) if not _negated(normed, m.start(), m.end())}
    percent = percent_in(text)
    if percent is not None and percent < 100:
        found.discard("abgeschlossen")  # "zu 60 Prozent fertig" is not done
    return next((s for s in STATE_PRIORITY if s in found), None)


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


def _past(year: int, month: int, day: int, today: date) -> date | None:
    """The latest valid date with this day and month on or before `today`."""
    for y in (year, year - 1):  # a date without a year means the last twelve months
        try:
            found = date(y, month, day)
        except ValueError:
            continue
        if found <= today:
            return found
    return None


def written_date(text: str, today: date) -> date | None:
    """A date written in the message ("12.06.2026", "12.6.", "gestern"), if any."""
    folded = fold(text)
    if re.search(r"\bvorgestern\b", folded):
        return today - timedelta(days=2)
    if re.search(r"\bgestern\b", folded):
        return today - timedelta(days=1)
    without_ids = MILESTONE_ID.sub(" ", folded)  # "Meilenstein 3.2." is no date
    for m in DATE_RE.finditer(without_ids):
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if y is None:
            found = _past(today.year, mo, d, today)
        else:
            try:
                found = date(int(y) + (2000 if len(y) == 2 else 0), mo, d)
            except ValueError:
                continue
        if found is not None:
            return found
    return None


def _said(verbs: str, sentence: str) -> bool:
    return any(not _negated(sentence, m.start(), m.end())
               for m in _word_pattern(verbs).finditer(sentence))


@functools.lru_cache(maxsize=64)
def _word_pattern(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{alternatives})\b")


@functools.lru_cache(maxsize=256)
def _title_parts(title: str) -> tuple[tuple[re.Pattern[str], ...], str]:
    """(one pattern per name word, its synonyms included; the verbs that say it happened)
    of a milestone title. Cached: the plan's titles are few, and every message asks."""
    words = [w for w in re.findall(r"\w+", norm(title)) if w not in TITLE_NOISE]
    verbs = [VERB_FAMILIES[w] for w in words if w in VERB_FAMILIES]
    names = tuple(re.compile("|".join(rf"\b{re.escape(v)}" for v in SYNONYMS.get(w, (w,))))
                  for w in words if w not in VERB_FAMILIES)
    return names, "|".join(verbs) or DONE_VERBS


def _names(sentence: str, m: Milestone) -> bool:
    names, verbs = _title_parts(m.title)
    return all(name.search(sentence) for name in names) and _said(verbs, sentence)


def milestones_in(text: str, plan: Plan,
                  reached: Mapping[str, date]) -> tuple[list[str], list[str]]:
    """(milestone ids reported reached, milestone ids named but already reached)."""
    sentences = [s for s in SENTENCE_END.split(norm(text)) if s.strip()]
    ids: list[str] = []
    already: list[str] = []
    all_verbs = "|".join([DONE_VERBS, *VERB_FAMILIES.values()])
    for sentence in sentences:
        for m in MILESTONE_ID.finditer(sentence):
            ms = plan.milestone(f"M{m.group(1)}")
            if ms and ms.id not in ids + already and _said(all_verbs, sentence):
                (already if ms.id in reached else ids).append(ms.id)
    if ids or already:
        return ids, already
    by_title: dict[str, list[Milestone]] = {}
    for ms in plan.milestones:
        by_title.setdefault(ms.title, []).append(ms)
    for group in by_title.values():
        if not any(_names(sentence, group[0]) for sentence in sentences):
            continue
        open_ones = sorted((ms for ms in group if ms.id not in reached), key=lambda ms: ms.due)
        if open_ones:
            ids.append(open_ones[0].id)
        else:
            already.append(group[-1].id)
    return ids, already


def recognize(text: str, plan: Plan, reached: Mapping[str, date], today: date) -> Recognized:
    """What a chat message reports: AP states and progress, milestones reached, and when."""
    if not text.strip() or is_question(text):
        return Recognized(is_question=bool(text.strip()))
    known: dict[str, APReport] = {}
    unknown: list[int] = []
    for numbers, segment in _segments(text, ap_mentions(text)):
        state, percent = states_in(segment), percent_in(segment)
        for n in numbers:
            ap_id = f"AP{n}"
            if plan.work_package(ap_id) is None:
                if n not in unknown:
                    unknown.append(n)
            elif ap_id not in known:
                known[ap_id] = APReport(ap_id, state, percent)
    ids, already = milestones_in(text, plan, reached)
    return Recognized(
        aps=tuple(known.values()), unknown_aps=tuple(unknown), milestones=tuple(ids),
        all_reached=tuple(already),
        reached_on=written_date(text, today) if ids else None,
    )
