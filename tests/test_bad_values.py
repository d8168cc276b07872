"""Values that cannot work get one clean German answer through the real core, never the apology.

Each row goes through `Core.handle` as the team would send it (the admin's private chat, or
"Bot, …" in the team group). A traceback there is what the front-ends turn into
`bot.core.SORRY`; here it would fail the test. The plan file's own bad values (years, huge
numbers, sub-daily meetings, /dev/zero) are tested in test_plan.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import SORRY, Core
from bot.messages import Incoming
from bot.questions import NOT_UNDERSTOOD
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026

TEAM = -100123
ADMIN, ANNA = 1, 2

OUT_OF_RANGE = "liegt außerhalb des Programms (Q1 2025 – Q2 2027)"
RANGE = "Ich beantworte Fragen zu den Jahren 2000 bis 2100"

_message_ids = itertools.count(7000)


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
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


def replies_to(core: Core, text: str, in_group: bool = False) -> list[str]:
    """The texts of the replies: in the admin's private chat, or by Anna in the team group."""
    if in_group:
        addressed = text if text.startswith("/") else f"Bot, {text[0].lower()}{text[1:]}"
        msg = Incoming(text=addressed, chat_id=TEAM, user_id=ANNA, user_name="Anna",
                       chat_type="supergroup", message_id=next(_message_ids))
    else:
        msg = Incoming(text=text, chat_id=ADMIN, user_id=ADMIN, user_name="Chef",
                       chat_type="private", message_id=next(_message_ids))
    return [r.text for r in core.handle(msg, NOW)]


# (what is sent, what the one answer says)
ROWS = [
    # /quartal with years no quarter of the plan can have
    ("/quartal Q4 9999", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("/quartal Q1 0000", "Das Jahr 0 " + OUT_OF_RANGE),
    ("/quartal 9999-Q4", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("/quartal 4/9999", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("/quartal 4. Quartal 9999", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("/quartal Q1 99999", "Das Jahr 99999 " + OUT_OF_RANGE),
    ("/quartal Q1 1999", "Das Jahr 1999 " + OUT_OF_RANGE),
    ("/quartal Q1 2101", "Das Jahr 2101 " + OUT_OF_RANGE),
    ("/quartal ²", "verstehe ich nicht als Quartal"),
    # questions naming such years: months, days, quarters
    ("Was ist im Dezember 9999 fällig?", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("Was ist im Januar 0001 fällig?", "Das Jahr 1 " + OUT_OF_RANGE),
    ("Was ist am 31.12.9999 fällig?", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("Was läuft am 01.01.0001?", "Das Jahr 1 " + OUT_OF_RANGE),
    ("Was ist am 31.12.99999999999999999999 fällig?", "Das Jahr 99999999999999999999 "),
    ("Was ist im Q4 9999 fällig?", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("Was ist im Q1 0000 fällig?", "Das Jahr 0 " + OUT_OF_RANGE),
    ("Welche Meilensteine sind im Q4 9999 offen?", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("Wie steht AP 3 im Dezember 9999?", "Das Jahr 9999 " + OUT_OF_RANGE),
    ("Welche Termine gibt es im Juni 99999?", "Das Jahr 99999 " + OUT_OF_RANGE),
    # the first and last years still get their period
    ("Was ist im Q1 2000 fällig?", "<b>Q1 2000</b> (01.01.2000 – 31.03.2000)"),
    ("Was ist am 31.12.2100 fällig?", "<b>31.12.2100</b> (31.12.2100)"),
    ("/quartal Q4 2100", "<b>Q4 2100</b> (01.10.2100 – 31.12.2100)"),
    # numbers that are too large, or digits int() cannot read
    ("/naechste 999999999999999999999", "<b>Die nächsten 30 Termine</b>"),
    ("/naechste ²", "Wie viele? Zum Beispiel: /naechste 10"),
    ("/status AP99999999999999999999999", "finde ich kein Arbeitspaket"),
    ("/verlauf Bildungskonferenzen ²", "Zu AP 3 ist noch nichts gemeldet"),
    ("/verlauf AP3 ²", "Zu „AP3 ²“ finde ich kein Arbeitspaket"),
    ("/bericht Dezember 9999", "verstehe ich nicht als Berichtszeitraum"),
    ("/bericht Q4 9999", "verstehe ich nicht als Berichtszeitraum"),
]


@pytest.mark.parametrize("in_group", [False, True], ids=["private", "group"])
@pytest.mark.parametrize(("text", "says"), ROWS, ids=[text for text, _ in ROWS])
def test_a_value_that_cannot_work_gets_one_german_answer(core: Core, text: str, says: str,
                                                         in_group: bool) -> None:
    if in_group and text.startswith("/bericht"):
        pytest.skip("files are sent in an admin's private chat")
    replies = replies_to(core, text, in_group)
    assert len(replies) == 1, replies
    (answer,) = replies
    assert says in answer, answer
    assert answer not in (SORRY, NOT_UNDERSTOOD)


def test_the_out_of_range_answer_names_the_range_and_an_example(core: Core) -> None:
    (answer,) = replies_to(core, "Was ist im Dezember 9999 fällig?")
    assert answer == ("Das Jahr 9999 liegt außerhalb des Programms (Q1 2025 – Q2 2027). "
                      f"{RANGE}, zum Beispiel /quartal Q2 2027 oder „Was ist im Q2 2027 "
                      "fällig?“")
