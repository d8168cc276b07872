"""Plain-German questions to apbot: the kind of answer and its content, at fixed dates.

Every question goes through `Core.handle` as an addressed message (mostly the private chat
of an admin, some in the team group as "Bot, …", "@apbot_test_bot …" or "? …"), and the
same questions through the console front-end.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import COMMANDS
from bot.core import Core
from bot.frontends.console import Console
from bot.messages import Context, Incoming, Reply
from bot.questions import EXAMPLES, NOT_UNDERSTOOD
from bot.render.format import to_plain
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.telegram_text import BOT_NAME, telegram_fields
from workflows.plan import Plan
from workflows.progress import Author, MilestoneMark
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")

NOV = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026
DEC = datetime(2026, 12, 28, 9, 0, tzinfo=TZ)  # a Monday; the week runs into 2027
MAR = datetime(2026, 3, 31, 12, 0, tzinfo=TZ)  # the last day of Q1 2026
JUN = datetime(2027, 6, 30, 12, 0, tzinfo=TZ)  # the programme's last day

TEAM = -100123
ADMIN, ANNA = 1, 2

_message_ids = itertools.count(9000)


# -- fixtures and helpers --------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        team_chat_id=TEAM,
        admin_ids=frozenset({ADMIN}),
        timezone=TZ,
        data_dir=tmp_path / "data",
        plan_path=PLAN_PATH,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOV)
    yield s
    s.close()


@pytest.fixture
def core(settings: Settings, plan: Plan, store: Store) -> Core:
    return Core(Context(settings, plan, store), COMMANDS)


def send(core: Core, text: str, now: datetime, via: str = "private", **fields: Any) -> list[Reply]:
    """A message to the core: in the admin's private chat, or by Anna in the team group."""
    fields.setdefault("message_id", str(next(_message_ids)))
    if via == "private":
        msg = Incoming(text=text, chat_id=ADMIN, user_id=ADMIN, user_name="Chef",
                       chat_type="private", **fields)
    else:
        prefixed = {"bot": f"Bot, {text}", "mention": f"@{BOT_NAME} {text}", "?": f"? {text}",
                    "group": text}[via]
        # As the Telegram front-end reads it: "@apbot …" is a mention, taken out.
        msg = Incoming(chat_id=TEAM, user_id=ANNA, user_name="Anna", chat_type="supergroup",
                       **telegram_fields(prefixed), **fields)
    return core.handle(msg, now)


def ask(core: Core, text: str, now: datetime, via: str = "private") -> str:
    """The one reply to an addressed question."""
    replies = send(core, text, now, via)
    assert len(replies) == 1, replies
    assert replies[0].buttons == ()
    return replies[0].text


_PERIOD_HEAD = re.compile(r"<b>[^<]+</b> \(\d\d\.\d\d\.\d{4}(?: – \d\d\.\d\d\.\d{4})?\)")


def intent(answer: str) -> str:
    """The kind of answer, read from its first line."""
    first = answer.split("\n")[0]
    kinds = [
        ("not-understood", answer == NOT_UNDERSTOOD),
        ("next-biko", first.startswith("Nächste Bildungskonferenz (BiKo) laut Plan")
         or "keine Bildungskonferenz (BiKo)" in first),
        ("next-milestone", first.startswith("Nächster Meilenstein laut Plan")),
        ("running", first.startswith(("<b>Laut Plan laufen ", "Laut Plan läuft "))),
        ("ap-status", bool(re.match(r"<b>AP \d+ · ", first))),
        ("lead", first.startswith("Für AP ") and "zuständig" in first),
        ("overdue", first == "<b>Überfällig</b>"),
        ("open-milestones", first.startswith(("<b>Offene Meilensteine",
                                              "Keine offenen Meilensteine"))),
        ("meetings", first.startswith("<b>Sitzungen der nächsten 8 Wochen</b>")),
        ("period", bool(_PERIOD_HEAD.fullmatch(first))),
        ("unknown-ap", bool(re.match(r"AP \d+ gibt es nicht", first))),
        ("meeting", first.startswith("Nächste Sitzung „")),
        ("bad-date", bool(re.match(r"Den \S+ gibt es im Kalender nicht", first))),
    ]
    found = [name for name, hit in kinds if hit]
    assert len(found) == 1, (found, answer)
    return found[0]


@dataclass(frozen=True)
class Q:
    """One row of the question table."""

    text: str
    now: datetime
    intent: str
    has: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    via: str = "private"


def row(q: Q, *marks: Any) -> Any:
    return pytest.param(q, id=f"{q.now:%Y-%m-%d}-{q.via}-{q.text}", marks=marks)


QUESTIONS = [
    # -- the next BiKo ------------------------------------------------------------------
    row(Q("Wann ist die nächste Bildungskonferenz?", NOV, "next-biko",
          ("<b>M3.3 BiKo hat stattgefunden</b> (AP 3), fällig Do., 31.12.2026 – in 35 Tagen",
           "Noch nicht als erreicht vermerkt: M3.1 (fällig 31.12.2025), M3.2 (fällig 30.06.2026)",
           "angenommen"),
          ("M3.4", "M2.1"))),
    row(Q("nächste BiKo?", NOV, "next-biko", ("M3.3", "in 35 Tagen"), ("M3.4",), via="bot")),
    row(Q("nächste BiKo?", NOV, "next-biko", ("M3.3", "in 35 Tagen"), via="mention")),
    row(Q("Wann ist die nächste BiKo?", DEC, "next-biko",
          ("M3.3", "fällig Do., 31.12.2026 – in 3 Tagen"), ("M3.4",))),
    row(Q("nächste BiKo?", MAR, "next-biko",
          ("<b>M3.2 BiKo hat stattgefunden</b>", "fällig Di., 30.06.2026 – in 91 Tagen",
           "M3.1 (fällig 31.12.2025)"),
          ("M3.3", "M2.1"), via="?")),
    row(Q("Wann ist die nächste Bildungskonferenz?", JUN, "next-biko",
          ("M3.4", "fällig Mi., 30.06.2027 – heute",
           "M3.1 (fällig 31.12.2025), M3.2 (fällig 30.06.2026), M3.3 (fällig 31.12.2026)"))),
    row(Q("Wann findet die BiKo statt?", NOV, "next-biko", ("M3.3", "in 35 Tagen"))),
    row(Q("Wann ist der nächste Meilenstein?", NOV, "next-milestone",
          ("M3.3", "in 35 Tagen", "M2.1 (fällig 31.03.2026)"))),
    # -- periods ------------------------------------------------------------------------
    row(Q("Was steht im Q1 2027 an?", NOV, "period",
          ("<b>Q1 2027</b> (01.01.2027 – 31.03.2027)", "Keine Meilensteine fällig.",
           "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung",
           "der erste Di., 05.01.2027 10:00"))),
    row(Q("Was steht im Q1 2027 an?", DEC, "period",
          ("<b>Q1 2027</b>", "seit 362 Tagen überfällig"), via="mention")),
    row(Q("Was ist im Juni 2026 fällig?", NOV, "period",
          ("<b>Juni 2026</b> (01.06.2026 – 30.06.2026)",
           "M3.2 BiKo hat stattgefunden – fällig Di., 30.06.2026 – seit 149 Tagen überfällig",
           "• Di., 02.06.2026 10:00 Jour fixe Koordinierungsteam",
           "• Di., 30.06.2026 10:00 Jour fixe Koordinierungsteam"),
          ("M3.3", "26.06.2026"))),
    row(Q("Was ist im März 2027 fällig?", NOV, "period",
          ("<b>März 2027</b> (01.03.2027 – 31.03.2027)",))),
    row(Q("Was ist am 15.03.2027?", NOV, "period", ("<b>15.03.2027</b> (15.03.2027)",))),
    row(Q("Was ist diesen Monat fällig?", NOV, "period",
          ("<b>dieser Monat</b> (01.11.2026 – 30.11.2026)", "Keine Meilensteine fällig.",
           "• Di., 24.11.2026 10:00 Jour fixe Koordinierungsteam"),
          ("Di., 01.12.2026",))),
    row(Q("Was ist diesen Monat fällig?", DEC, "period",
          ("(01.12.2026 – 31.12.2026)", "M3.3 BiKo hat stattgefunden – fällig Do., 31.12.2026 "
                                        "– in 3 Tagen"))),
    row(Q("Was ist nächsten Monat fällig?", DEC, "period",
          ("<b>nächster Monat</b> (01.01.2027 – 31.01.2027)",
           "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung"),
          ("Di., 29.12.2026",))),
    row(Q("Was ist dieses Quartal fällig?", NOV, "period",
          ("<b>dieses Quartal (Q4 2026)</b> (01.10.2026 – 31.12.2026)", "in 35 Tagen"))),
    row(Q("Was ist dieses Quartal fällig?", MAR, "period",
          ("<b>dieses Quartal (Q1 2026)</b> (01.01.2026 – 31.03.2026)",
           "M2.1 Leitbild beschlossen – fällig Di., 31.03.2026 – heute", "Beginnen: AP 13",
           "Enden: AP 2"))),
    row(Q("Was ist nächstes Quartal fällig?", MAR, "period",
          ("<b>nächstes Quartal (Q2 2026)</b> (01.04.2026 – 30.06.2026)",
           "M3.2 BiKo hat stattgefunden – fällig Di., 30.06.2026 – offen",
           "• Mi., 08.04.2026 14:00 Steuerungsgruppe Bildung"), via="bot")),
    row(Q("Was ist nächstes Quartal fällig?", DEC, "period",
          ("<b>nächstes Quartal (Q1 2027)</b> (01.01.2027 – 31.03.2027)",))),
    row(Q("Was ist dieses Quartal fällig?", JUN, "period",
          ("<b>dieses Quartal (Q2 2027)</b>",
           "M13.1 Bericht Fachkräfte – fällig Mi., 30.06.2027 – heute",
           "M3.4 BiKo hat stattgefunden – fällig Mi., 30.06.2027 – heute", "Enden: AP 3"))),
    row(Q("Was ist nächstes Quartal fällig?", JUN, "period",
          ("<b>nächstes Quartal (Q3 2027)</b>", "Keine Arbeitspakete laufen in dieser Zeit."))),
    row(Q("Was steht nächste Woche an?", DEC, "period",
          ("<b>nächste Woche</b> (04.01.2027 – 10.01.2027)",
           "• Di., 05.01.2027 10:00 Jour fixe Koordinierungsteam"))),
    row(Q("Was steht diese Woche an?", DEC, "period",
          ("(28.12.2026 – 03.01.2027)", "M3.3", "• Di., 29.12.2026 10:00 Jour fixe"))),
    row(Q("Was steht morgen an?", DEC, "period",
          ("<b>morgen</b> (29.12.2026)", "• Di., 29.12.2026 10:00 Jour fixe Koordinierungsteam"))),
    # -- what is running ----------------------------------------------------------------
    row(Q("Was läuft gerade?", NOV, "running",
          ("<b>Laut Plan laufen heute 11 Arbeitspakete</b>", "• AP 3 Bildungskonferenzen",
           "• AP 13 spezialisierte Bildungsberichterstattung Modul 3"),
          ("AP 1 ", "AP 2 "))),
    row(Q("Was läuft gerade?", MAR, "running",
          ("laufen heute 12 Arbeitspakete", "• AP 2 Leitbildentwicklung"), ("AP 1 ",),
          via="bot")),
    row(Q("Was läuft gerade?", JUN, "running", ("laufen heute 11 Arbeitspakete",))),
    # -- one work package ---------------------------------------------------------------
    row(Q("Wie steht AP 7?", NOV, "ap-status",
          ("<b>AP 7 · Aufbau und Pflege von Kooperationsstrukturen",
           "Heute: läuft laut Plan – Quartal 8 von 10", "Gemeldeter Stand: noch keine Meldung"))),
    row(Q("Wie steht AP 7?", NOV, "ap-status", ("<b>AP 7 · ",), via="mention")),
    row(Q("Was macht das Bildungsportal?", NOV, "ap-status",
          ("<b>AP 4 · Bildungsportal</b>", "Quartal 7 von 9"))),
    row(Q("Wie steht AP 13?", MAR, "ap-status",
          ("Quartal 1 von 6", "M13.1 Bericht Fachkräfte – fällig Mi., 30.06.2027 – offen"))),
    row(Q("Was ist mit der Netzwerkarbeit?", NOV, "ap-status", ("<b>AP 9 · Netzwerkarbeit</b>",))),
    row(Q("Wie steht Arbeitspaket 3?", JUN, "ap-status",
          ("Quartal 10 von 10", "(0 von 4 erreicht)", "seit 181 Tagen überfällig"))),
    row(Q("Wie steht AP 14?", NOV, "unknown-ap",
          ("AP 14 gibt es nicht – der Plan hat AP 1 bis AP 13.",))),
    # -- who is responsible -------------------------------------------------------------
    row(Q("Wer ist für AP 4 zuständig?", NOV, "lead",
          ("Für AP 4 (Bildungsportal) ist im Plan noch niemand als zuständig eingetragen",))),
    row(Q("Wer ist fuer AP 4 zustaendig?", NOV, "lead", ("Für AP 4 (Bildungsportal)",))),
    row(Q("Wer leitet das Bildungsportal?", NOV, "lead", ("Für AP 4 (Bildungsportal)",))),
    row(Q("Wer ist verantwortlich für AP 3?", DEC, "lead", ("Für AP 3 (Bildungskonferenzen)",),
          via="bot")),
    # -- what is late -------------------------------------------------------------------
    row(Q("Was ist überfällig?", NOV, "overdue",
          ("M3.1 BiKo hat stattgefunden – fällig Mi., 31.12.2025 – seit 330 Tagen überfällig",
           "<b>Laufende Arbeitspakete ohne Meldung seit über 6 Wochen</b>",
           "• AP 3 Bildungskonferenzen – noch nie gemeldet"),
          ("M3.3", "AP 1 "))),
    row(Q("Was ist überfällig?", DEC, "overdue",
          ("seit 362 Tagen überfällig", "M3.2 BiKo hat stattgefunden"), ("M3.3",), via="?")),
    row(Q("Was ist überfällig?", MAR, "overdue", ("M3.1", "seit 90 Tagen überfällig"),
          ("M2.1",))),
    row(Q("Was ist verspätet?", JUN, "overdue",
          ("M3.3 BiKo hat stattgefunden – fällig Do., 31.12.2026 – seit 181 Tagen überfällig",),
          ("M13.1", "M3.4"))),
    # -- open milestones ----------------------------------------------------------------
    row(Q("Welche Meilensteine sind 2026 noch offen?", NOV, "open-milestones",
          ("<b>Offene Meilensteine 2026</b>", "M2.1 Leitbild beschlossen", "M3.2", "M3.3"),
          ("M3.1", "M3.4", "M13.1"))),
    row(Q("Welche Meilensteine sind 2027 noch offen?", DEC, "open-milestones",
          ("<b>Offene Meilensteine 2027</b>",
           "M13.1 Bericht Fachkräfte – fällig Mi., 30.06.2027 – offen", "M3.4"),
          ("M3.3", "M2.1"))),
    row(Q("Welche Meilensteine sind noch offen?", NOV, "open-milestones",
          ("<b>Offene Meilensteine</b>", "M3.1", "M3.3", "M13.1"))),
    # -- meetings -----------------------------------------------------------------------
    row(Q("Wann ist die nächste Sitzung?", NOV, "meetings",
          ("• Di., 01.12.2026 10:00 Jour fixe Koordinierungsteam",
           "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung"),
          ("26.01.2027",))),
    # a meeting named: that meeting only, not every meeting of the plan
    row(Q("Wann tagt die Steuerungsgruppe?", DEC, "meeting",
          ("„Steuerungsgruppe Bildung“ laut Plan: <b>Mi., 13.01.2027 14:00</b> – in 16 Tagen",
           "Danach: Mi., 14.04.2027 14:00"),
          ("Jour fixe",))),
    row(Q("Wann ist der nächste Jour fixe?", NOV, "meeting",
          ("„Jour fixe Koordinierungsteam“ laut Plan: <b>Di., 01.12.2026 10:00</b> – in 5 Tagen",),
          ("Steuerungsgruppe",))),
    row(Q("Wann ist die nächste Steuerungsgruppe?", NOV, "meeting",
          ("<b>Mi., 13.01.2027 14:00</b> – in 48 Tagen",), ("Jour fixe",), via="group")),
    # -- not understood -----------------------------------------------------------------
    row(Q("Wie wird das Wetter?", NOV, "not-understood")),
    row(Q("Hallo", DEC, "not-understood", via="bot")),
    row(Q("Was ist am 31.02.2027 fällig?", NOV, "bad-date", ("31.02.2027",))),
    # -- typed without umlauts, or with the abbreviation "Mär" ---------------------------
    row(Q("naechste BiKo?", NOV, "next-biko", ("M3.3", "in 35 Tagen"))),
    row(Q("Was ist ueberfaellig?", NOV, "overdue", ("seit 330 Tagen überfällig",))),
    row(Q("Was laeuft gerade?", NOV, "running", ("laufen heute 11 Arbeitspakete",))),
    row(Q("Was ist im Marz 2027 fällig?", NOV, "period", ("<b>März 2027</b>",))),
    row(Q("Was ist im Mär 2027 fällig?", NOV, "period", ("<b>März 2027</b>",))),
]


@pytest.mark.parametrize("q", QUESTIONS)
def test_question(core: Core, q: Q) -> None:
    text = ask(core, q.text, q.now, q.via)
    assert intent(text) == q.intent, text
    for needle in q.has:
        assert needle in text, (needle, text)
    for needle in q.lacks:
        assert needle not in text, (needle, text)


def test_the_table_is_big_and_varied() -> None:
    qs = [p.values[0] for p in QUESTIONS]
    assert len(qs) >= 30
    assert {q.now for q in qs} == {NOV, DEC, MAR, JUN}
    assert {q.intent for q in qs} >= {"next-biko", "period", "running", "ap-status", "lead",
                                      "overdue", "open-milestones", "meetings",
                                      "not-understood"}
    assert {q.via for q in qs} == {"private", "bot", "mention", "?", "group"}


# -- addressing -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Wann ist die nächste BiKo?", "Was ist dieses Quartal fällig?",
                                  "Wie steht AP 7?", "Was ist überfällig?"])
@pytest.mark.parametrize("via", ["bot", "mention", "?"])
def test_every_way_of_addressing_gets_the_same_answer(core: Core, text: str, via: str) -> None:
    assert ask(core, text, NOV, via) == ask(core, text, NOV)


@pytest.mark.parametrize("text", [
    f"Wann ist die nächste BiKo, @{BOT_NAME}?", f"Wann ist die nächste BiKo, @{BOT_NAME.upper()}?",
    "bot: Wann ist die nächste BiKo?", "?Wann ist die nächste BiKo?",
])
def test_more_ways_of_addressing(core: Core, text: str) -> None:
    assert ask(core, text, NOV, "group") == ask(core, "Wann ist die nächste BiKo?", NOV)


def test_a_reply_to_the_bot_is_addressed(core: Core) -> None:
    replies = send(core, "Wann ist die nächste BiKo?", NOV, "group", reply_to_bot=True)
    assert [r.text for r in replies] == [ask(core, "Wann ist die nächste BiKo?", NOV)]


@pytest.mark.parametrize("text", ["Wann ist die nächste BiKo?", "nächste BiKo?",
                                  "Was ist dieses Quartal fällig?", "Wie steht AP 7?",
                                  "Was ist überfällig?", "Wer ist für AP 4 zuständig?"])
def test_a_question_about_the_plan_in_the_group_needs_no_prefix(
        core: Core, store: Store, text: str) -> None:
    assert [r.text for r in send(core, text, NOV, "group")] == [ask(core, text, NOV)]
    assert store.updates() == [] and store.marks() == []  # and nothing was recorded


@pytest.mark.parametrize("text", ["Wie wird das Wetter?", "Bot hat recht",
                                  "Wer bringt morgen Kuchen mit?"])
def test_other_questions_in_the_group_that_are_not_addressed_get_no_reply(
        core: Core, store: Store, text: str) -> None:
    assert send(core, text, NOV, "group") == []
    assert store.updates() == [] and store.marks() == []


def test_a_mention_of_another_bot_is_not_addressed(core: Core) -> None:
    assert send(core, "@otherbot Wann ist die nächste BiKo?", NOV, "group") == []


def test_an_edited_question_gets_no_second_answer(core: Core) -> None:
    assert send(core, "Wann ist die nächste BiKo?", NOV, "bot", edited=True) == []


# -- not understood -------------------------------------------------------------------------


def test_not_understood_names_three_example_questions(core: Core) -> None:
    text = ask(core, "Wie wird das Wetter?", NOV)
    assert text == NOT_UNDERSTOOD
    assert "nicht verstanden" in text
    examples = re.findall(r"„([^“]+\?)“", text)
    assert len(examples) == 3
    assert [f"„{e}“" for e in examples] == list(EXAMPLES)


@pytest.mark.parametrize("example", [e.strip("„“") for e in EXAMPLES])
def test_the_example_questions_are_understood(core: Core, example: str) -> None:
    for now in (NOV, DEC, MAR, JUN):
        assert ask(core, example, now) != NOT_UNDERSTOOD


@pytest.mark.parametrize(("text", "via"), [
    ("?", "group"), ("Bot,", "group"), (f"@{BOT_NAME}", "group"), ("asdf qwertz", "private"),
    ("42", "private"), ("asdf qwertz", "bot"), ("?!", "private"),
])
def test_never_silence_when_addressed(core: Core, text: str, via: str) -> None:
    assert [r.text for r in send(core, text, NOV, via)] == [NOT_UNDERSTOOD]


# -- reached BiKos ------------------------------------------------------------------------


def test_a_reached_biko_is_skipped(core: Core, store: Store) -> None:
    store.add_mark(MilestoneMark("M3.3", date(2026, 11, 20), Author(ADMIN, "Chef"), TEAM, 1,
                                 datetime(2026, 11, 20, 18, 0, tzinfo=TZ)), NOV)
    text = ask(core, "nächste BiKo?", NOV)
    assert intent(text) == "next-biko"
    assert ("<b>M3.4 BiKo hat stattgefunden</b> (AP 3), fällig Mi., 30.06.2027 – in 216 Tagen"
            in text)
    assert "M3.3" not in text
    assert "M3.1 (fällig 31.12.2025), M3.2 (fällig 30.06.2026)" in text


def test_bikos_reached_in_the_chat_are_skipped(core: Core) -> None:
    for day in ("20.01.2026", "20.06.2026", "25.11.2026"):
        assert send(core, f"BiKo hat stattgefunden am {day}", NOV, "group")  # recorded
    text = ask(core, "Wann ist die nächste BiKo?", NOV)
    assert "M3.4" in text and "in 216 Tagen" in text
    assert "Noch nicht als erreicht vermerkt" not in text
    assert send(core, "BiKo hat stattgefunden am 29.06.2027", JUN, "group")
    done = ask(core, "nächste BiKo?", JUN)
    assert intent(done) == "next-biko"
    assert "keine Bildungskonferenz (BiKo) mehr offen" in done


def test_the_next_biko_counts_days_in_the_configured_time_zone(core: Core) -> None:
    # 23:30 UTC on 30.12. is already New Year's Eve in Berlin: M3.3 is due today.
    text = ask(core, "nächste BiKo?", datetime(2026, 12, 30, 23, 30, tzinfo=UTC))
    assert "fällig Do., 31.12.2026 – heute" in text


# -- the console front-end ---------------------------------------------------------------


def console_says(core: Core, text: str, now: datetime) -> str:
    out = io.StringIO()
    Console(core, lambda: now, out).say(text)
    return out.getvalue()


@pytest.mark.parametrize("q", [p for p in QUESTIONS if not p.marks])
def test_the_console_gives_the_same_answers_as_plain_text(core: Core, q: Q) -> None:
    printed = console_says(core, q.text, q.now)
    assert not re.search(r"</?(?:b|i)>", printed)
    assert printed == to_plain(ask(core, q.text, q.now)) + "\n\n"
    for needle in q.has:
        assert to_plain(needle) in printed, (needle, printed)
    for needle in q.lacks:
        assert to_plain(needle) not in printed, (needle, printed)


def test_the_console_answers_the_next_biko(core: Core) -> None:
    printed = console_says(core, "Wann ist die nächste BiKo?", NOV)
    assert printed.startswith("Nächste Bildungskonferenz (BiKo) laut Plan: M3.3 BiKo hat "
                              "stattgefunden (AP 3), fällig Do., 31.12.2026 – in 35 Tagen.")


def test_the_console_says_when_it_did_not_understand(core: Core) -> None:
    printed = console_says(core, "Wie wird das Wetter?", NOV)
    assert "nicht verstanden" in printed
    assert all(e in printed for e in EXAMPLES)
