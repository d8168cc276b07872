"""Questions in the team group without a prefix, look-backs, narrowed commands, honest answers.

Everything goes through `Core.handle` as Anna in the team group (no "Bot," and no @mention
unless a test says so), at Thursday 2026-11-26 10:00 Europe/Berlin, with the test plan and a
few reports: AP 3 in September, AP 4 blocked in November, M3.2 reached in June.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import COMMANDS
from bot.core import Core
from bot.messages import Context, Incoming, Reply
from bot.questions import NOT_UNDERSTOOD
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.telegram_text import BOT_NAME, telegram_fields
from workflows.plan import Plan
from workflows.progress import Author, MilestoneMark, Update
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026
DEC = datetime(2026, 12, 10, 10, 0, tzinfo=TZ)
TEAM, ADMIN, ANNA, BEN = -100123, 1, 2, 3
_ids = itertools.count(5000)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({ADMIN}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=TEST_PLAN)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    s.add_update(Update("AP3", "AP3: Einladungen verschickt, 60 %", Author(ANNA, "Anna"), TEAM, 1,
                        datetime(2026, 9, 10, 9, 0, tzinfo=TZ), "läuft", 60), NOW)
    s.add_update(Update("AP4", "AP4 hängt, der Dienstleister fehlt", Author(BEN, "Ben"), TEAM, 2,
                        datetime(2026, 11, 20, 9, 0, tzinfo=TZ), "blockiert"), NOW)
    s.add_mark(MilestoneMark("M3.2", date(2026, 6, 12), Author(ANNA, "Anna"), TEAM, 3,
                             datetime(2026, 6, 12, 18, 0, tzinfo=TZ)), NOW)
    yield s
    s.close()


@pytest.fixture
def core(settings: Settings, plan: Plan, store: Store) -> Core:
    return Core(Context(settings, plan, store), COMMANDS)


def send(core: Core, text: str, now: datetime = NOW, **fields: Any) -> list[Reply]:
    fields.setdefault("message_id", next(_ids))
    # As the Telegram front-end reads it: "@apbot …" is a mention, taken out.
    msg = Incoming(chat_id=TEAM, user_id=ANNA, user_name="Anna", chat_type="supergroup",
                   **telegram_fields(text), **fields)
    return core.handle(msg, now)


def answer(core: Core, text: str, now: datetime = NOW, **fields: Any) -> str:
    replies = send(core, text, now, **fields)
    assert len(replies) == 1, (text, replies)
    return replies[0].text


# -- which messages in the group are questions for apbot --------------------------------------

PLAN_QUESTIONS = [
    ("Wann ist die nächste BiKo?", "M3.3 BiKo hat stattgefunden"),
    ("Wie steht AP 7?", "<b>AP 7 · "),
    ("Wie steht Arbeitspaket 3", "<b>AP 3 · "),  # a question word, no "?"
    ("Was macht das Bildungsportal?", "<b>AP 4 · Bildungsportal</b>"),
    ("Ist M3.2 erreicht?", "M3.2"),
    ("Wann ist der nächste Jour fixe?", "Di., 01.12.2026 10:00"),
    ("Was ist dieses Quartal fällig?", "<b>dieses Quartal (Q4 2026)</b>"),
    ("Bis wann läuft das Programm?", "Es endet am Mi., 30.06.2027"),
    ("Gibt es überfällige Meilensteine?", "M3.1"),
    ("Kurze Frage: wann ist die Steuerungsgruppe?", "Mi., 13.01.2027 14:00"),
    ("Was ist morgen?", "<b>morgen</b> (27.11.2026)"),
    ("Was haben wir diesen Monat geschafft?", "AP4 hängt"),
    ("Wie weit sind wir insgesamt?", "<b>Stand insgesamt</b>"),
]

COLLEAGUE_QUESTIONS = [
    "Wer bringt morgen Kuchen mit?",
    "Wie war's gestern beim Arbeitskreis?",
    "Mittagessen um 12?",
    "Kommst du morgen ins Büro?",
    "Hat jemand ein Ladekabel?",
    "Wann lernen wir das neue Ticketsystem kennen?",
    "Kannst du mir den Stand zu AP 3 schicken?",  # to a colleague: "du"
    "Hat jemand Zeit, AP 12 durchzugehen?",
    "Habt ihr die Folien für die BiKo?",
    "Können Sie mir den Zeitplan schicken?",
    "@Ben wann ist die nächste BiKo?",  # asks Ben
    "AP3: Einladungen verschickt. Kommt ihr alle?",  # the question is not about the plan
    "Gehen wir heute essen?",
]


@pytest.mark.parametrize(("text", "needle"), PLAN_QUESTIONS)
def test_a_question_about_the_plan_is_answered_without_a_prefix(
        core: Core, store: Store, text: str, needle: str) -> None:
    before = len(store.updates()), len(store.marks())
    reply = answer(core, text)
    assert needle in reply, reply
    assert reply != NOT_UNDERSTOOD
    assert (len(store.updates()), len(store.marks())) == before  # a question is not a report


@pytest.mark.parametrize("text", COLLEAGUE_QUESTIONS)
def test_questions_between_colleagues_get_no_reply(core: Core, store: Store, text: str) -> None:
    before = len(store.updates())
    assert send(core, text) == []
    assert len(store.updates()) == before


def test_a_question_to_a_colleague_in_a_reply_is_theirs(core: Core) -> None:
    assert send(core, "Wann ist die nächste BiKo?", reply_to_user="Ben") == []


def test_a_reply_to_the_bot_stays_addressed(core: Core) -> None:
    assert answer(core, "Und die danach?", reply_to_bot=True) == NOT_UNDERSTOOD
    assert "M3.3" in answer(core, "und die nächste BiKo", reply_to_bot=True)


def test_an_edited_question_gets_no_second_answer(core: Core) -> None:
    assert send(core, "Wann ist die nächste BiKo?", edited=True) == []


@pytest.mark.parametrize("text", [f"@{BOT_NAME} Status AP 11", f"@{BOT_NAME} Stand AP 11",
                                  "Bot, Status AP 11", "Ist AP 11 fertig?",
                                  "Ist AP 11 abgeschlossen"])
def test_a_request_naming_an_ap_is_answered_not_recorded(core: Core, store: Store,
                                                          text: str) -> None:
    reply = answer(core, text)
    assert reply.startswith("<b>AP 11 · "), reply
    assert store.updates("AP11") == []


def test_an_addressed_report_is_still_recorded(core: Core, store: Store) -> None:
    assert "gespeichert" in answer(core, f"@{BOT_NAME} AP 11: Datenbasis erweitert, 40 %")
    assert [u.percent for u in store.updates("AP11")] == [40]
    assert "gespeichert" in answer(core, "AP11 Stand: 50 %")
    assert answer(core, "Wie steht AP 11?").count("50 %") >= 1


def test_a_foreign_group_is_not_answered_for_a_plain_question(core: Core) -> None:
    msg = Incoming(text="Wann ist die nächste BiKo?", chat_id="-999", user_id=ANNA,
                   user_name="Anna", chat_type="supergroup", message_id=next(_ids))
    assert core.handle(msg, NOW) == []


# -- look-backs and the other questions --------------------------------------------------------


@pytest.mark.parametrize(("text", "has", "lacks"), [
    ("Was haben wir im letzten Quartal geschafft?",
     ("<b>Geschafft: letztes Quartal (Q3 2026)</b> (01.07.2026 – 30.09.2026)", "1 Meldung ·",
      "<b>AP 3 Bildungskonferenzen</b>", "10.09.2026 Anna: „AP3: Einladungen verschickt, 60 %“"),
     ("AP4",)),
    ("Was haben wir diesen Monat geschafft?",
     ("(01.11.2026 – 30.11.2026)", "<b>AP 4 Bildungsportal</b>", "20.11.2026 Ben"), ("AP3:",)),
    ("Was haben wir im Juni geschafft?",  # a look-back: the past June
     ("(01.06.2026 – 30.06.2026)", "🏁 M3.2 BiKo hat stattgefunden – erreicht am 12.06.2026"),
     ()),
    ("Was haben wir nächsten Monat geschafft?", ("liegt noch vor uns",), ()),
    ("Wann war die letzte BiKo?",
     ("Zuletzt als erreicht vermerkt: <b>M3.2 BiKo hat stattgefunden</b> (AP 3) am Fr., "
      "12.06.2026 – vor 167 Tagen", "nicht als erreicht vermerkt: M3.1 (fällig 31.12.2025)"),
     ("M3.3", "M3.4")),
    ("Wie viele Meilensteine haben wir erreicht?",
     ("<b>1 von 6</b> Meilensteinen", "M3.2 am 12.06.2026", "überfällig: M3.1, M2.1"), ()),
    ("Wie viele BiKos hatten wir schon?", ("<b>1 von 4</b> BiKos",), ("M2.1",)),
    ("Wer hat zuletzt was zu AP 3 gemeldet?",
     ("<b>Letzte Meldungen zu AP 3 · Bildungskonferenzen</b>",
      "• 10.09.2026 Anna: „AP3: Einladungen verschickt, 60 %“ <i>(läuft · 60 %)</i>",
      "/verlauf AP3"), ("Ben",)),
    ("Wer hat zuletzt was gemeldet?", ("• AP 4 · 20.11.2026 Ben", "• AP 3 · 10.09.2026 Anna"),
     ()),
    ("Welche APs sind blockiert?",
     ("<b>Als blockiert gemeldet</b>", "• AP 4 Bildungsportal – blockiert, letzte Meldung "
      "20.11.2026"), ("AP 3 ",)),
    ("Welche APs sind verzögert?",
     ("Kein Arbeitspaket ist zurzeit als verzögert gemeldet", "/ueberfaellig"), ()),
    ("Welche Arbeitspakete sind verzögert oder blockiert?", ("AP 4 Bildungsportal",), ()),
    ("Wie weit sind wir insgesamt?",
     ("Laufzeit: Quartal 8 von 10 (Q1 2025 – Q2 2027), noch 216 Tage",
      "Meilensteine: 1 von 6 erreicht · 2 überfällig", "11 laufen · 2 beendet",
      "Gemeldet: 2 von 13 Arbeitspaketen – 1 läuft · 1 blockiert"), ()),
    ("Welche Meilensteine hat AP 3?",
     ("<b>Meilensteine von AP 3 · Bildungskonferenzen</b> (1 von 4 erreicht)", "M3.1", "M3.4"),
     ("M2.1", "M13.1")),
    ("Welche Meilensteine hat das Bildungsportal?", ("AP 4 (Bildungsportal) hat im Plan keine "
                                                    "Meilensteine",), ()),
    ("Wie viele Tage noch bis zur BiKo?",
     ("M3.3 BiKo hat stattgefunden</b> (AP 3), fällig Do., 31.12.2026 – in 35 Tagen",), ()),
    ("Wann ist die nächste Steuerungsgruppe?",
     ("Nächste Sitzung „Steuerungsgruppe Bildung“ laut Plan: <b>Mi., 13.01.2027 14:00</b> – "
      "in 48 Tagen",), ("Jour fixe",)),
    ("Wann war die letzte Steuerungsgruppe?",
     ("Die letzte Sitzung „Steuerungsgruppe Bildung“ war laut Plan am Mi., 14.10.2026 14:00",),
     ()),
    ("Steuerungsgruppe im April?",
     ("<b>Steuerungsgruppe Bildung April 2027</b>", "Mi., 14.04.2027 14:00"), ("Jour fixe",)),
    ("Was ist morgen?", ("<b>morgen</b> (27.11.2026)",), ()),
    ("Was steht nächste Woche an?",
     ("<b>nächste Woche</b> (30.11.2026 – 06.12.2026)", "Di., 01.12.2026 10:00 Jour fixe"), ()),
    ("Bis wann läuft das Programm?", ("bis Q2 2027", "noch 216 Tage"), ()),
])
def test_more_questions(core: Core, text: str, has: tuple[str, ...],
                        lacks: tuple[str, ...]) -> None:
    reply = answer(core, text)
    for needle in has:
        assert needle in reply, (needle, reply)
    for needle in lacks:
        assert needle not in reply, (needle, reply)


def test_a_month_without_a_year_is_the_next_one(core: Core) -> None:
    assert "<b>Januar 2027</b>" in answer(core, "Was ist im Januar fällig?", DEC)
    assert "Mi., 14.04.2027" in answer(core, "Wann tagt die Steuerungsgruppe im April?", DEC)
    assert "<b>Januar 2026</b>" in answer(core, "Was war letzten Januar fällig?", DEC)


# -- honest answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "why"), [
    ("Wie viel Budget hat AP 3 noch?", "Geld, Budget und Kosten"),
    ("Wo findet die nächste BiKo statt?", "Orte und Räume"),
    ("Wie viele Teilnehmende hatte die letzte BiKo?", "Teilnehmende"),
    ("Warum ist AP 4 blockiert?", "Gründe"),
])
def test_what_the_plan_does_not_hold_is_said_honestly(core: Core, text: str, why: str) -> None:
    reply = answer(core, text)
    assert reply.startswith("Das steht nicht im Plan"), reply
    assert why in reply
    assert "„Wann ist die nächste BiKo?“" in reply  # and what it can answer


def test_an_addressed_plan_question_it_cannot_answer_is_not_the_generic_line(core: Core) -> None:
    reply = answer(core, f"@{BOT_NAME} Ist der Plan gut?")
    assert reply.startswith("Das steht nicht im Plan")
    assert answer(core, f"@{BOT_NAME} Wie wird das Wetter?") == NOT_UNDERSTOOD


# -- commands narrow by their arguments --------------------------------------------------------


def test_milestones_of_one_ap(core: Core) -> None:
    reply = answer(core, "/meilensteine AP3")
    assert reply.startswith("<b>Meilensteine von AP 3 · Bildungskonferenzen</b>")
    assert "M3.4" in reply and "M2.1" not in reply and "M13.1" not in reply
    assert answer(core, "/meilensteine Bildungskonferenzen") == reply


def test_milestones_of_a_period(core: Core) -> None:
    reply = answer(core, "/meilensteine 2027")
    assert reply.startswith("<b>Meilensteine, fällig 2027</b>")
    assert "M3.4" in reply and "M13.1" in reply and "M3.3" not in reply


@pytest.mark.parametrize(("command", "needle"), [
    ("/meilensteine AP 14", "AP 14 gibt es nicht"),
    ("/meilensteine quatsch", "„quatsch“ verstehe ich nicht"),
    ("/ueberfaellig quatsch", "„quatsch“ verstehe ich nicht"),
    ("/termine quatsch", "„quatsch“ verstehe ich nicht"),
])
def test_an_argument_a_command_cannot_use_is_said_in_one_line(core: Core, command: str,
                                                              needle: str) -> None:
    reply = answer(core, command)
    assert needle in reply
    assert "\n" not in reply


def test_overdue_of_one_ap(core: Core) -> None:
    reply = answer(core, "/ueberfaellig AP3")
    assert reply.startswith("<b>Überfällig · AP 3 Bildungskonferenzen</b>")
    assert "M3.1" in reply and "M2.1" not in reply
    assert "Keine Meilensteine überfällig" in answer(core, "/ueberfaellig AP13")


def test_meetings_of_a_year_and_of_one_name(core: Core) -> None:
    year = answer(core, "/termine 2027")
    assert year.startswith("<b>Sitzungen 2027</b> (01.01.2027 – 31.12.2027)")
    assert "Jour fixe Koordinierungsteam – 26 Termine" in year
    assert "Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung" in year
    assert "Das Programm endet am Mi., 30.06.2027" in year
    named = answer(core, "/termine Steuerungsgruppe")
    assert "Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung" in named
    assert "Jour fixe" not in named
