"""Reading progress reports out of ordinary German chat messages.

Pure functions: text in, what it reports out. The rules are deliberately
conservative (issue 14: a misfiled chat message costs more trust than a missed one):

- a question reports nothing, and an AP counts only when the message reports *on* it:
  a heading ("AP 3: …", "AP 3 – …"), a state word or a percentage right with it. An AP
  after a preposition ("Fragen zu AP 11", "wegen AP 10", "für AP 5") is mentioned in
  passing; file paths ("S:\\Bildung\\AP3") and file names ("AP7_final.docx") name none;
  an AP's title as the heading ("Bildungsportal: Prototyp steht") names that AP when the
  rest reports something (a state word, a percentage, a done-word or a participle);
- "abgeschlossen" is the AP's state only when said of the AP itself ("AP 12
  abgeschlossen", "AP3 ist durch"); "AP 10: Flyer fertig" is progress on a running AP;
- a state word under a negation ("noch nicht fertig", "läuft noch nicht") sets nothing;
- a percentage outside 0–100 % ("150 %", "-10 %", "1e9 %") is not stored, and says why
  (`Recognized.bad_percent`); a signed figure before a noun ("-5 % Teilnehmende") is a
  statistic, not progress;
- a milestone counts only when its own verb ("beschlossen", "stattgefunden") stands in the
  same sentence as its name, in the past: planning ("soll beschlossen werden", "findet am
  4. Dezember statt") never marks one. Of several milestones of one title (the four BiKos)
  an ordinal ("die 2. BiKo"), a year ("BiKo 2025"), a season ("Frühjahrs-BiKo") or a date
  in the message picks one (the open one due nearest to it); else the earliest open one,
  when it is also the one due nearest today — where that is not clear, it asks which;
- where it cannot tell, it says so in `Recognized.unsure` (a question to ask the author),
  and recording stores nothing until the author answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from workflows.plan import Milestone, Plan
from workflows.queries import fold, norm

# "AP3", "AP 3", "#AP3", "AP03", "Arbeitspaket 3", then "+ AP8", "/8", "& 8", "und 9", ", AP 10"
# Not inside a path, URL or file name: "S:\\Bildung\\AP3\\", "/ap3", "AP7_final.docx".
_AP_HEAD = (r"(?<![\w\\/.])#?(?:ap|arbeitspakete?)\s*0*(\d{1,3})(?!\d)(?![\d,.]*\s*(?:%|prozent))"
            r"(?![_\\]|\.\w)")
_AP_MORE = (r"\s*(?:(?:/|\+|&|,|\bund\b)\s*(?:#?ap\s*|arbeitspaket\s*)?)"
            r"0*(\d{1,3})\b(?![.,]?\d)(?!\s*(?:%|prozent|uhr|termin|tag|woche))")
AP_GROUP = re.compile(_AP_HEAD + f"(?:{_AP_MORE})*", re.IGNORECASE)
AP_MORE = re.compile(_AP_MORE, re.IGNORECASE)

# Any figure before "%": its sign, its digits (perhaps "1e9"); 0–100 without a sign is progress.
PERCENT = re.compile(r"(?<![\w.,])([+\-−]?)(\d+(?:[.,]\d+)?(?:e[+-]?\d+)?)\s*"
                     r"(?:%|prozent\b|v\.\s?h\.)", re.IGNORECASE)
# "-5 % Teilnehmende ggü. Vorjahr": a signed figure before a noun or a comparison is a
# statistic the AP reports, not its progress.
STATISTIC_AFTER = re.compile(r"^\s*(?:[A-ZÄÖÜ]|mehr\b|weniger\b|gg|gegen|im\s+vergleich)")

# State words, written as they look after `norm` (no umlauts, ae/oe/ue folded too).
STATE_WORDS: tuple[tuple[str, str], ...] = (
    (r"blockiert\w*|blockade|hangt|hangen|warte[tn]?\s+(?:\w+\s+)?auf", "blockiert"),
    (r"verzogert\w*|verzogerung\w*|(?:im\s+)?verzug|gefahrdet|verschoben|stockt|stocken",
     "verzögert"),
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

# "abgeschlossen" is said of the AP only right after it, with at most these words between:
# "AP 12 abgeschlossen", "AP3 ist durch", "Arbeitspaket 1 komplett fertig", "AP7: erledigt".
AP_DONE = re.compile(
    r"^[\s:–-]*(?:(?:ist|sind|wurde|wurden|jetzt|nun|endlich|komplett|vollstandig|offiziell|"
    r"ganz|inzwischen|schon|bereits|heute|gestern|erfolgreich|damit|auch|final|planmassig|"
    r"ohne\s+\w+)\s+)*(?:abgeschlossen|erledigt|fertig(?:gestellt)?|beendet|durch)\b")
# "AP 3: …", "AP 3 – …": the message reports on the AP.
HEADING = re.compile(r"^\s*(?::|[–-]\s)")
# "Fragen zu AP 11", "wegen AP 10", "Vertretung für AP 5", "ob AP 10 …": in passing.
PREPOSITION_BEFORE = re.compile(
    r"\b(?:zu|zum|zur|fur|furs|wegen|bei|beim|um|aus|mit|in|im|an|am|uber|von|vom|als|ob|"
    r"nach|seit|gegen|ohne|durch|bis)\s*$")
# "Ich versuche, AP 8 fertig zu bekommen", "Plane, AP 13 …": an intention, not a report.
INTENTION = re.compile(r"\b(?:plane|planen|versuche|versuchen|werde|will|wollen|mochte|mochten)\b|"
                       r"\bzu\s+(?:haben|bekommen|kriegen|machen|bringen|sein)\b")
# "AP 9 Vortrag gehalten": a past participle near an AP might be a report – ask.
PARTICIPLE = re.compile(r"\bge(?!gen|stern|nau|rn|mein|samt|rade|wiss|nug|neral|ht\b)\w{2,}"
                        r"(?:t|en)\b|\b\w{3,}iert\b")
# Laughter marks a joke: a report in it is asked about, not stored.
JOKE = re.compile(r"[😂🤣😅😄😆😜😝🙃😹]|\b(?:haha\w*|lol)\b", re.IGNORECASE)
# "AP3 60 % – sorry, meinte AP4": the AP named after "meinte" replaces the one before.
CORRECTION_BEFORE = re.compile(r"\bmeinte?\s+(?:naturlich\s+|eigentlich\s+|doch\s+)?$")

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
# Requests and questions without "?": "Kann jemand …", "Hat jemand Zeit …", "Kannst du …".
REQUEST_START = re.compile(
    r"^(?:kann|kannst|konnt|konnte|konntest|konnten|magst|mochtest|wurdest|hast\s+du|habt\s+ihr|"
    r"hat\s+(?:jemand|wer)|weiss\s+(?:jemand|wer)|bitte|lasst\s+uns|denkt|schickt)\b")
DATE_RE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})\b)?")
MONTHS = ("januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "dezember")
MONTH_DATE_RE = re.compile(rf"\b(\d{{1,2}})\.\s*({'|'.join(MONTHS)})\b(?:\s+(\d{{4}})\b)?")
WEEKDAYS = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
DAYS_BACK = ((re.compile(r"\bvorgestern\b"), 2), (re.compile(r"\bgestern\b"), 1))
NAME_TAIL = re.compile(r"^[\w-]*")
LAST_WEEKDAY_RE = re.compile(rf"\b(?:letzten|letzte|vergangenen)\s+({'|'.join(WEEKDAYS)})\b")

# A sentence that plans or conditions a milestone does not report it reached.
PLANNING = re.compile(
    r"\b(?:soll|sollen|sollte|wird|werden|muss|mussen|geplant|planen|plant|findet|finden|"
    r"stattfinden|bevor|wenn|falls|voraussichtlich|vertagt|demnachst|nachste\w*|kommende\w*)\b")
# "Kapitel 2 vom Bericht Fachkräfte fertig": a part of the milestone, not the milestone.
PART_OF_BEFORE = re.compile(r"\b(?:vom|von|des|zum|zur|im|fur|furs|uber)\s+$")
ORDINALS = {"erste": 1, "zweite": 2, "dritte": 3, "vierte": 4, "funfte": 5}
ORDINAL_BEFORE = re.compile(rf"(?:\b(\d)\.|\b({'|'.join(ORDINALS)})[nrs]?)\s+$")
YEAR_NEAR = re.compile(r"^\s*(20\d\d)\b")
YEAR_BEFORE = re.compile(r"\b(20\d\d)(?:er)?\s+$")
SEASONS = {"fruhjahr": (3, 4, 5, 6, 7), "fruhling": (3, 4, 5, 6, 7), "sommer": (6, 7, 8, 9),
           "herbst": (9, 10, 11, 12), "winter": (12, 1, 2)}
SEASON_BEFORE = re.compile(rf"\b({'|'.join(SEASONS)})s?-?\s*$")


@dataclass(frozen=True)
class APReport:
    """What one message says about one work package."""

    ap: str
    state: str | None = None
    percent: int | None = None


@dataclass(frozen=True)
class Recognized:
    """Everything a message reports.

    `reported_on` is the day a report is about when the message says so ("am 10.09.2026
    Einladungen verschickt", "gestern …"), never a future day; recording dates its records
    with it. `bad_percent` is a figure written as a percentage that is no progress value
    ("150 %", "-10 %", "1e9 %"): not stored, and the reply can say why. `unsure` is a
    question to ask the author (German, one line) when the message might be a report but
    the recognizer cannot tell; `choices` are then the milestone ids it hesitates between
    (empty when the question is whether to store what `aps`/`milestones` hold at all).
    """

    aps: tuple[APReport, ...] = ()
    unknown_aps: tuple[int, ...] = ()
    milestones: tuple[str, ...] = ()  # milestone ids, resolved against what is already reached
    all_reached: tuple[str, ...] = ()  # milestones named that are already reached (ids)
    reached_on: date | None = None  # a date written in the message
    is_question: bool = False
    reported_on: date | None = None
    bad_percent: str | None = None
    unsure: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def reports_anything(self) -> bool:
        return bool(self.aps or self.milestones or self.unknown_aps or self.all_reached)


def is_question(text: str) -> bool:
    """Ends with "?", or opens with a question word or a request and has no other sentence mark."""
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    folded = fold(stripped)
    first = re.match(r"\w+", folded)
    if first and first.group(0) in QUESTION_WORDS and not re.search(r"[.!:]", stripped):
        return True
    return bool(REQUEST_START.match(norm(stripped)))


def _negated(text: str, start: int, end: int) -> bool:
    """Is the word at text[start:end] negated before or right after it?"""
    return bool(NEGATION_BEFORE.search(norm(text[max(0, start - 40):start]))
                or NEGATION_AFTER.search(norm(text[end:end + 30])))


def _percents(text: str) -> tuple[list[int], str | None]:
    """(the progress percentages 0–100 in the text, the first figure that is none)."""
    values: list[int] = []
    bad: str | None = None
    for m in PERCENT.finditer(text):
        sign, digits = m.group(1), m.group(2)
        if sign and STATISTIC_AFTER.match(text[m.end():]):
            continue  # "-5 % Teilnehmende": a statistic
        if _negated(text, m.start(), m.end()):
            continue
        try:
            value = float(digits.replace(",", "."))
        except ValueError:  # pragma: no cover - the pattern only lets numbers through
            continue
        if sign or "e" in digits.lower() or value > 100:
            bad = bad or f"{sign}{digits} %"
        else:
            values.append(int(value))
    return values, bad


def percent_in(text: str) -> int | None:
    """The last percentage 0–100 in the text."""
    values, _ = _percents(text)
    return values[-1] if values else None


def states_in(text: str, done_said_of_ap: bool = True) -> str | None:
    """The state a piece of text reports, ignoring negated words.

    With `done_said_of_ap` False, "fertig"/"erledigt"/"abgeschlossen" do not count: they
    were said of something else ("Flyer fertig"), not of the AP."""
    normed = norm(text)
    found = {state for pattern, state in _STATE_RES
             for m in pattern.finditer(normed) if not _negated(normed, m.start(), m.end())}
    percent = percent_in(text)
    if not done_said_of_ap or (percent is not None and percent < 100):
        found.discard("abgeschlossen")  # "zu 60 Prozent fertig" is not done
    return next((s for s in STATE_PRIORITY if s in found), None)


def _has_state_word(normed: str) -> bool:
    """Any state word, negated or not: "AP 4 nicht abgeschlossen" reports on AP 4."""
    return any(pattern.search(normed) for pattern, _ in _STATE_RES)


def ap_mentions(text: str) -> list[tuple[list[int], int, int]]:
    """Groups of AP numbers with the span of their mention: ([3, 8], start, end)."""
    groups = []
    for m in AP_GROUP.finditer(text):
        numbers = [int(m.group(1))]
        numbers += [int(n) for n in AP_MORE.findall(text, m.end(1), m.end())]
        groups.append((numbers, m.start(), m.end()))
    return groups


@dataclass(frozen=True)
class _Mention:
    """One group of APs with the text before it (since the last group) and after it."""

    numbers: list[int]
    before: str
    after: str


def _mentions(text: str) -> list[_Mention]:
    groups = ap_mentions(text)
    out = []
    for i, (numbers, start, end) in enumerate(groups):
        stop = groups[i + 1][1] if i + 1 < len(groups) else len(text)
        begin = groups[i - 1][2] if i else 0
        out.append(_Mention(numbers, text[begin:start], text[end:stop]))
    return out


@dataclass(frozen=True)
class _Reading:
    """What one mention says: a report, maybe one, or nothing."""

    report: APReport | None = None
    maybe: bool = False
    bad_percent: str | None = None


def _read_mention(m: _Mention, first: bool) -> _Reading:
    """Does this mention report on its APs, and what?"""
    before, after = norm(m.before), norm(m.after)
    heading = bool(HEADING.match(m.after))
    if PREPOSITION_BEFORE.search(before) and not heading:
        return _Reading()  # "Fragen zu AP 11 bitte an Dirk"
    if not heading and INTENTION.search(norm(m.before + " " + m.after)):
        return _Reading()
    # The text before the first AP belongs to it ("Korrektur: AP7 …", "Stand AP 6: …").
    own = (m.before + " " + m.after) if first else m.after
    values, bad = _percents(own)
    said = bool(AP_DONE.match(after))
    state = states_in(own, done_said_of_ap=said)
    if said and state is None and (not values or values[-1] == 100):
        state = "abgeschlossen"  # "AP3 ist durch"
    # A percentage counts even negated: "AP 10: noch nicht 50 %" reports on AP 10.
    signal = heading or said or _has_state_word(norm(own)) or bool(PERCENT.search(own))
    if not signal:
        return _Reading(maybe=bool(PARTICIPLE.search(after)))
    return _Reading(APReport("", state, values[-1] if values else None), bad_percent=bad)


def report_on(ap_id: str, text: str) -> tuple[APReport, str | None]:
    """What `text` says of an AP that a command names ("/update AP3 <text>"), and a bad
    percentage in it: the text is about the AP, so it counts even without a heading."""
    values, bad = _percents(text)
    said = bool(AP_DONE.match(norm(text)))
    state = states_in(text, done_said_of_ap=said)
    if said and state is None and (not values or values[-1] == 100):
        state = "abgeschlossen"
    return APReport(ap_id, state, values[-1] if values else None), bad


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


def _dates(text: str, today: date) -> list[tuple[int, date, bool]]:
    """(position, date, whether its year was written) of each date in the text."""
    folded = fold(text)
    out: list[tuple[int, date, bool]] = []
    for pattern, days in DAYS_BACK:
        if m := pattern.search(folded):
            out.append((m.start(), today - timedelta(days=days), True))
    if m := LAST_WEEKDAY_RE.search(folded):
        back = (today.weekday() - WEEKDAYS.index(m.group(1))) % 7 or 7
        out.append((m.start(), today - timedelta(days=back), True))
    without_ids = MILESTONE_ID.sub(lambda x: " " * len(x.group(0)), folded)  # "3.2." no date
    found: list[tuple[int, int, int, str | None]] = [
        (m.start(), int(m.group(1)), int(m.group(2)), m.group(3))
        for m in DATE_RE.finditer(without_ids)]
    found += [(m.start(), int(m.group(1)), MONTHS.index(m.group(2)) + 1, m.group(3))
              for m in MONTH_DATE_RE.finditer(folded.replace("maerz", "marz"))]
    for pos, d, mo, y in found:
        if y is None:
            day = _past(today.year, mo, d, today)
            if day is not None:
                out.append((pos, day, False))
            continue
        try:
            out.append((pos, date(int(y) + (2000 if len(y) == 2 else 0), mo, d), True))
        except ValueError:
            continue
    return sorted(out, key=lambda x: x[0])


def written_date(text: str, today: date) -> date | None:
    """A date written in the message ("12.06.2026", "12.6.", "12. Juni", "gestern"), if any."""
    dates = _dates(text, today)
    return dates[0][1] if dates else None


def report_date(text: str, today: date) -> date | None:
    """The past day a report is about ("am 10.09.2026 …", "gestern …"), if it names one.

    A date without a year that lies ahead this year is an appointment, not last year's day."""
    for _, day, year_written in _dates(text, today):
        if day > today or (not year_written and day.year != today.year):
            continue
        return day
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


def _names(sentence: str, m: Milestone) -> re.Match[str] | None:
    """The first name word of the milestone in a sentence that says it happened."""
    names, verbs = _title_parts(m.title)
    found = [name.search(sentence) for name in names]
    if not names or not all(found) or not _said(verbs, sentence):
        return None
    head = min((f for f in found if f), key=lambda f: f.start())
    if PART_OF_BEFORE.search(sentence[:head.start()]):
        return None
    return head


@dataclass(frozen=True)
class _Pick:
    """Which of several milestones of one title a sentence means."""

    chosen: Milestone | None = None
    unclear: tuple[Milestone, ...] = ()


def _pick(group: list[Milestone], sentence: str, head: re.Match[str],
          on: date | None, reached: Mapping[str, date], today: date) -> _Pick:
    """The ordinal, year, season or date in the sentence picks one (the open one due nearest
    to the date, or to today); unclear when two are equally near, or when nothing says
    which and the earliest open one is not the one due nearest today."""
    by_due = sorted(group, key=lambda ms: ms.due)
    before, after = sentence[:head.start()], sentence[head.end():]
    after = NAME_TAIL.sub("", after)  # "biko-termin" → "-termin"; "bikos" → ""
    if ordinal := ORDINAL_BEFORE.search(before):
        n = int(ordinal.group(1)) if ordinal.group(1) else ORDINALS[ordinal.group(2)]
        return _Pick(by_due[n - 1] if 0 < n <= len(by_due) else None)
    candidates = by_due
    if (year := YEAR_NEAR.match(after) or YEAR_BEFORE.search(before)) is not None:
        candidates = [ms for ms in by_due if ms.due.year == int(year.group(1))]
    if season := SEASON_BEFORE.search(before):
        months = SEASONS[season.group(1)]
        candidates = [ms for ms in candidates if ms.due.month in months]
    open_ones = [ms for ms in candidates if ms.id not in reached]
    if not open_ones:
        return _Pick(candidates[-1] if len(candidates) == 1 else None)
    if on is None and year is not None and len(open_ones) > 1:
        return _Pick(unclear=tuple(open_ones))  # "BiKo 2026": two that year
    when = on or today
    distance = {ms.id: abs((ms.due - when).days) for ms in open_ones}
    nearest = min(open_ones, key=lambda ms: (distance[ms.id], ms.due))
    tied = tuple(ms for ms in open_ones if distance[ms.id] == distance[nearest.id])
    if len(tied) > 1:
        return _Pick(unclear=tied)  # a date just between two open ones
    if len(candidates) == len(by_due) and on is None and open_ones[0] is not nearest:
        # Nothing says which, and the earliest open one is not the one due nearest today
        # (earlier ones were never marked): any of them up to that one may be meant.
        return _Pick(unclear=tuple(ms for ms in open_ones if ms.due <= nearest.due))
    return _Pick(nearest)


@dataclass(frozen=True)
class _Milestones:
    ids: list[str]
    already: list[str]
    unclear: tuple[str, ...] = ()


def _milestones(text: str, plan: Plan, reached: Mapping[str, date], today: date,
                on: date | None) -> _Milestones:
    sentences = [s for s in SENTENCE_END.split(norm(text)) if s.strip()]
    ids: list[str] = []
    already: list[str] = []
    all_verbs = "|".join([DONE_VERBS, *VERB_FAMILIES.values()])
    for sentence in sentences:
        if PLANNING.search(sentence):
            continue
        for m in MILESTONE_ID.finditer(sentence):
            ms = plan.milestone(f"M{m.group(1)}")
            if ms and ms.id not in ids + already and _said(all_verbs, sentence):
                (already if ms.id in reached else ids).append(ms.id)
    if ids or already:
        return _Milestones(ids, already)
    by_title: dict[str, list[Milestone]] = {}
    for ms in plan.milestones:
        by_title.setdefault(ms.title, []).append(ms)
    unclear: tuple[str, ...] = ()
    for group in by_title.values():
        for sentence in sentences:
            if PLANNING.search(sentence) or (head := _names(sentence, group[0])) is None:
                continue
            if len(group) == 1:
                (already if group[0].id in reached else ids).append(group[0].id)
                break
            pick = _pick(group, sentence, head, on, reached, today)
            if pick.unclear:
                unclear = tuple(ms.id for ms in pick.unclear)
            elif pick.chosen is None:
                if all(ms.id in reached for ms in group):
                    already.append(group[-1].id)
            elif pick.chosen.id in reached:
                already.append(pick.chosen.id)
            else:
                ids.append(pick.chosen.id)
            break
    return _Milestones(ids, already, unclear)


def milestones_in(text: str, plan: Plan,
                  reached: Mapping[str, date]) -> tuple[list[str], list[str]]:
    """(milestone ids reported reached, milestone ids named but already reached)."""
    found = _milestones(text, plan, reached, date.max, None)
    return found.ids, found.already


def _merge(old: APReport, new: APReport) -> APReport:
    """The same AP named twice: what the later mention adds or says anew wins."""
    return APReport(old.ap, new.state or old.state,
                    new.percent if new.percent is not None else old.percent)


def _ap_label(ap_ids: list[str]) -> str:
    return " und ".join(f"AP {a[2:]}" for a in ap_ids)


# "Bildungsportal: Prototyp steht", "Netzwerkarbeit – Vortrag gehalten": an AP named by its
# title as the heading of a message (no digits in the heading, then ":" or a dash).
TITLE_HEADING = re.compile(r"^\s*([^\W\d_][^\d:–\n]{3,70}?)\s*(?::|\s[–-]\s)(.*)$", re.DOTALL)
# What makes the rest of such a message a report (stricter than after "AP 4:"): a state
# word, a percentage, a done-word or a participle ("gehalten", "verschickt"), "steht".
TITLE_REPORT = re.compile(rf"\b(?:{DONE_VERBS}|steht|stehen|raus|online|live|"
                          r"(?:ab|an|auf|aus|bei|durch|ein|fest|mit|nach|um|vor|zu|zuruck)?"
                          r"ge\w{2,}(?:t|en)|ver\w{2,}t|\w{3,}iert|uber\w+et|"
                          r"unterschrieben|umgesetzt)\b")


def _title_words(title: str) -> list[str]:
    return re.findall(r"\w+", norm(title))


def title_heading(plan: Plan, text: str) -> tuple[str, str] | None:
    """(the AP id, the rest) when a message opens with an AP's title as its heading and
    the rest reports something; None otherwise.

    Every word of the heading (of 4 letters or more) must be a word of that one AP's
    title, whole or inflected, and one of them a long one (8 letters or more):
    "Bildungsportal", "Koordinierung und Steuerung", "Bildungsmonitoring". A heading that
    fits two APs ("Kooperationsstrukturen") names none.
    """
    m = TITLE_HEADING.match(text)
    if m is None:
        return None
    words = [w for w in re.findall(r"\w+", norm(m.group(1))) if len(w) >= 4]
    if not words or len(words) > 6:
        return None

    def fits(word: str, titled: list[str]) -> bool:
        return any(t.startswith(word) or (len(t) >= 5 and word.startswith(t)) for t in titled)

    hits = []
    for wp in plan.work_packages:
        titled = _title_words(wp.title)
        if all(fits(w, titled) for w in words) and any(len(w) >= 8 for w in words):
            hits.append(wp.id)
    if len(hits) != 1 or any(all(any(t.startswith(w) for t in _title_words(ms.title))
                                 for w in words) for ms in plan.milestones):
        return None  # "Bericht Fachkräfte: …", "Leitbild: …" name a milestone, not an AP
    rest = m.group(2).strip()
    normed = norm(rest)
    if (not rest or is_question(rest) or INTENTION.search(normed) or PLANNING.search(normed)
            or not (_has_state_word(normed) or PERCENT.search(rest)
                    or TITLE_REPORT.search(normed))):
        return None
    return hits[0], rest


def recognize(text: str, plan: Plan, reached: Mapping[str, date], today: date) -> Recognized:
    """What a chat message reports: AP states and progress, milestones reached, and when."""
    if not text.strip() or is_question(text):
        return Recognized(is_question=bool(text.strip()))
    known: dict[str, APReport] = {}
    unknown: list[int] = []
    maybe: list[str] = []
    bad: str | None = None
    last: list[str] = []  # the APs of the last reporting mention, for "meinte AP4"
    titled = title_heading(plan, text) if not AP_GROUP.search(text) else None
    # The AP named by its title reads as if its number stood there: "AP4: Prototyp steht".
    for i, mention in enumerate(_mentions(f"{titled[0]}: {titled[1]}" if titled else text)):
        reading = _read_mention(mention, first=i == 0)
        if last and CORRECTION_BEFORE.search(norm(mention.before)):
            # "AP3 60 % – sorry, meinte AP4": AP 4 takes what was said of AP 3.
            taken = known.pop(last[0])
            for ap_id in last[1:]:
                known.pop(ap_id, None)
            reading = _Reading(APReport("", taken.state, taken.percent))
        if reading.report is None:
            if reading.maybe:
                maybe += [f"AP{n}" for n in mention.numbers if plan.work_package(f"AP{n}")]
            continue
        bad = bad or reading.bad_percent
        last = []
        for n in mention.numbers:
            ap_id = f"AP{n}"
            if plan.work_package(ap_id) is None:
                if n not in unknown:
                    unknown.append(n)
                continue
            new = replace(reading.report, ap=ap_id)
            known[ap_id] = _merge(known[ap_id], new) if ap_id in known else new
            last.append(ap_id)
    on = written_date(text, today)
    found = _milestones(text, plan, reached, today, on)
    rec = Recognized(
        aps=tuple(known.values()), unknown_aps=tuple(unknown), milestones=tuple(found.ids),
        all_reached=tuple(found.already),
        reached_on=on if found.ids else None,
        reported_on=(on if found.ids and on and on <= today else report_date(text, today)),
        bad_percent=bad,
    )
    if found.unclear:
        names = " oder ".join([", ".join(found.unclear[:-1]), found.unclear[-1]])
        # reached_on stays: it is the day the chosen one is marked with, once answered.
        return replace(rec, milestones=(), reached_on=on, choices=found.unclear,
                       unsure=f"Welcher Meilenstein ist erreicht: {names}?")
    if (rec.aps or rec.milestones) and JOKE.search(text):
        what = _ap_label([r.ap for r in rec.aps]) or ", ".join(rec.milestones)
        return replace(rec, unsure=f"Als Meldung zu {what} speichern?")
    if not rec.reports_anything and maybe:
        return replace(rec, aps=tuple(APReport(a) for a in dict.fromkeys(maybe)),
                       unsure=f"Als Meldung zu {_ap_label(list(dict.fromkeys(maybe)))} "
                              f"speichern?")
    return rec
