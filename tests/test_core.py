"""The conversation core: every command's answer at a fixed date, access rules, progress in chat."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import workflows.storage
from bot.commands import COMMANDS
from bot.core import Core
from bot.frontends.console import Console
from bot.messages import Button, ButtonPress, Context, Frontend, Incoming, Reply
from bot.render.format import TELEGRAM_LIMIT
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.plan import Plan
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026

TEAM = "-100123"
OTHER_GROUP = "-100999"
EXTRA_GROUP = "-100555"
ADMIN, ANNA, BERT = "1", "2", "3"
NAMES = {ADMIN: "Chef", ANNA: "Anna", BERT: "Bert"}

_message_ids = itertools.count(1000)


# -- fixtures and helpers --------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        team_chat_id=TEAM,
        allowed_chat_ids=frozenset({EXTRA_GROUP}),
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


def incoming(text: str, **fields: Any) -> Incoming:
    """A message in the team group from Anna, with a fresh message id."""
    user = fields.pop("user_id", ANNA)
    fields.setdefault("chat_id", TEAM)
    fields.setdefault("chat_type", "supergroup")
    fields.setdefault("message_id", str(next(_message_ids)))
    return Incoming(text=text, user_id=user, user_name=NAMES.get(user, "Jemand"), **fields)


def ask(core: Core, text: str, now: datetime = NOW, **fields: Any) -> list[Reply]:
    return core.handle(incoming(text, **fields), now)


def answer(core: Core, text: str, now: datetime = NOW, **fields: Any) -> str:
    """The text of the one reply to a message."""
    replies = ask(core, text, now, **fields)
    assert len(replies) == 1, replies
    return replies[0].text


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.split("\n") if needle in line]
    assert len(lines) == 1, (needle, text)
    return lines[0]


def press(core: Core, data: str, user_id: str, chat_id: str = TEAM) -> Any:
    return core.press(ButtonPress(data, chat_id, user_id, NAMES.get(user_id, "Jemand")), NOW)


def live(store: Store) -> list[Any]:
    return [u for u in store.updates() if not u.withdrawn]


# -- /status ----------------------------------------------------------------------------


def test_status_ap3_at_a_fixed_date(core: Core) -> None:
    replies = ask(core, "/status AP3")
    assert len(replies) == 1
    assert replies[0].buttons == ()
    text = replies[0].text
    assert text.split("\n")[0] == "<b>AP 3 · Bildungskonferenzen</b>"
    assert "Zeitraum: Q1 2025 – Q2 2027" in text
    assert "Heute: läuft laut Plan – Quartal 8 von 10" in text
    assert "Gemeldeter Stand: noch keine Meldung" in text
    assert "Zuständig: noch nicht festgelegt" in text
    assert "<b>Meilensteine</b> (0 von 4 erreicht)" in text
    m1 = line_with(text, "M3.1")
    assert "BiKo hat stattgefunden" in m1
    assert "31.12.2025" in m1
    assert m1.endswith("seit 330 Tagen überfällig")
    m2 = line_with(text, "M3.2")
    assert "30.06.2026" in m2
    assert m2.endswith("seit 149 Tagen überfällig")
    m3 = line_with(text, "M3.3")
    assert "Do., 31.12.2026" in m3
    assert m3.endswith("in 35 Tagen")
    m4 = line_with(text, "M3.4")
    assert "30.06.2027" in m4
    assert m4.endswith("– offen")
    assert "Letzte Meldungen" not in text


@pytest.mark.parametrize("text", [
    "/status 3", "/status AP 3", "/status ap3", "/status AP03", "/status Arbeitspaket 3",
    "/status Bildungskonferenzen", "/status bildungskonferenzen", "/STATUS AP3",
    "/status\nAP3",
])
def test_status_finds_ap3_however_it_is_written(core: Core, text: str) -> None:
    assert answer(core, text) == answer(core, "/status AP3")


def test_status_by_title_word_finds_ap4(core: Core) -> None:
    text = answer(core, "/status Bildungsportal")
    assert text.startswith("<b>AP 4 · Bildungsportal</b>")
    assert "Zeitraum: Q2 2025 – Q2 2027" in text
    assert "Quartal 7 von 9" in text
    assert "Meilensteine" not in text  # AP 4 has none


def test_a_mention_the_front_end_marked_is_addressed(core: Core) -> None:
    # A group message that is no question about the plan, with the mention taken out:
    # answered only because the front-end says it names the bot.
    assert ask(core, "hallo") == []
    assert answer(core, "hallo", mentions_bot=True) == answer(core, "hallo", reply_to_bot=True)
    assert answer(core, "hallo", mentions_bot=True) != ""


def test_a_question_naming_someone_else_is_theirs(core: Core) -> None:
    assert answer(core, "Wann ist die nächste BiKo?") != ""
    assert ask(core, "Wann ist die nächste BiKo?", mentions_other=True) == []


def test_status_of_an_ap_not_in_the_plan(core: Core) -> None:
    assert answer(core, "/status AP14") == "AP 14 gibt es nicht – der Plan hat AP 1 bis AP 13."
    assert answer(core, "/status 0") == "AP 0 gibt es nicht – der Plan hat AP 1 bis AP 13."


def test_status_without_argument_explains_itself(core: Core) -> None:
    text = answer(core, "/status")
    assert "Welches Arbeitspaket?" in text
    assert "/status AP3" in text
    assert "/plan" in text


def test_status_with_an_unknown_word_explains_itself(core: Core) -> None:
    text = answer(core, "/status Quantenphysik")
    assert "Zu „Quantenphysik“ finde ich kein Arbeitspaket" in text
    assert "/status AP3" in text
    assert "/plan" in text


def test_status_with_an_ambiguous_word_lists_the_candidates(core: Core) -> None:
    text = answer(core, "/status Kooperationsstrukturen")
    assert "mehrere Arbeitspakete" in text
    assert "AP 6" in text
    assert "AP 7" in text
    assert "Welches meinen Sie?" in text


def test_status_escapes_the_unknown_word(core: Core) -> None:
    text = answer(core, "/status <i>Foo</i> & Bar")
    assert "&lt;i&gt;Foo&lt;/i&gt; &amp; Bar" in text
    assert "<i>" not in text


def test_status_uses_the_local_day_of_an_utc_now(core: Core) -> None:
    # 23:30 UTC on New Year's Eve is already 1 January in Berlin.
    late = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    text = answer(core, "/status AP3", now=late)
    assert line_with(text, "M3.1").endswith("seit 1 Tag überfällig")


# -- phases and milestone states ------------------------------------------------------------


def test_status_before_an_ap_begins(core: Core) -> None:
    before = datetime(2025, 6, 1, 9, 0, tzinfo=TZ)
    text = answer(core, "/status AP13", now=before)
    assert "Heute: beginnt laut Plan Do., 01.01.2026" in text
    assert "Quartal" not in text


def test_status_after_an_ap_ended(core: Core) -> None:
    text = answer(core, "/status AP1")
    assert "Heute: laut Plan beendet seit Mo., 30.06.2025" in text
    assert "Quartal" not in text


def test_status_on_the_first_and_last_day_of_an_ap(core: Core) -> None:
    first = datetime(2025, 1, 1, 0, 0, tzinfo=TZ)
    assert "Quartal 1 von 10" in answer(core, "/status AP3", now=first)
    last = datetime(2027, 6, 30, 23, 59, tzinfo=TZ)
    assert "Quartal 10 von 10" in answer(core, "/status AP3", now=last)


def test_milestone_due_today_and_tomorrow(core: Core) -> None:
    due_day = datetime(2026, 12, 31, 18, 0, tzinfo=TZ)
    assert line_with(answer(core, "/status AP3", now=due_day), "M3.3").endswith("– heute")
    day_before = datetime(2026, 12, 30, 18, 0, tzinfo=TZ)
    assert line_with(answer(core, "/status AP3", now=day_before), "M3.3").endswith("– morgen")


def test_milestone_far_ahead_is_open(core: Core) -> None:
    text = answer(core, "/status AP13")
    line = line_with(text, "M13.1")
    assert "Bericht Fachkräfte" in line
    assert "fällig Mi., 30.06.2027" in line
    assert line.endswith("– offen")


def test_milestone_reached_from_a_chat_message(core: Core, store: Store) -> None:
    reply = answer(core, "Die erste BiKo hat stattgefunden")
    assert "M3.1" in reply
    assert "erreicht" in reply
    text = answer(core, "/status AP3")
    assert "(1 von 4 erreicht)" in text
    assert line_with(text, "M3.1").endswith("erreicht am 26.11.2026")
    assert "überfällig" not in line_with(text, "M3.1")
    assert len([m for m in store.marks() if not m.withdrawn]) == 1


# -- /plan, /hilfe, /start, unknown commands -----------------------------------------------


def test_plan_has_one_line_per_ap(core: Core) -> None:
    text = answer(core, "/plan")
    lines = text.split("\n")
    assert lines[0] == "<b>Bildungskommunen – Arbeits- und Zeitplan</b> – Stand Do., 26.11.2026"
    ap_lines = [line for line in lines if line.startswith("<b>AP ")]
    assert len(ap_lines) == 13
    assert [re.match(r"<b>AP (\d+)</b>", line).group(1) for line in ap_lines] == [  # type: ignore[union-attr]
        str(n) for n in range(1, 14)
    ]
    assert "Q1 2025–Q2 2027 · läuft (8/10) · Meilensteine 0/4 ⚠️ 2 überfällig" in ap_lines[2]
    assert "beendet" in ap_lines[0]
    assert "läuft (7/9)" in ap_lines[3]


def test_plan_shows_reported_progress(core: Core) -> None:
    ask(core, "AP8 verzögert, 30 %")
    line = line_with(answer(core, "/plan"), "<b>AP 8</b>")
    assert "gemeldet: verzögert 30 %" in line


@pytest.mark.parametrize("command", ["/hilfe", "/help", "/start"])
def test_help_lists_the_commands_with_examples(core: Core, command: str) -> None:
    text = answer(core, command)
    for name in ("/status AP3", "/plan", "/update AP3 Text", "/rueckgaengig", "/verlauf",
                 "/hilfe"):
        assert name in text
    assert "/status Bildungsportal" in text  # an example
    assert "„AP3: Einladungen verschickt, 60 %“" in text
    assert "Datenschutzmodus" not in text  # no identity known: no hint


def test_help_and_its_alias_agree(core: Core) -> None:
    assert answer(core, "/hilfe") == answer(core, "/help")


HINT = "ℹ️ So sehe ich in Gruppen nur Befehle."


def test_start_in_a_group_tells_the_front_ends_hint(core: Core) -> None:
    hinted = core.with_frontend(Frontend(group_hint=HINT))
    text = answer(hinted, "/start")
    assert text.startswith("Guten Tag!")
    assert text.endswith("\n\n" + HINT)


def test_start_without_a_hint_or_in_private_has_none(core: Core) -> None:
    assert HINT not in answer(core, "/start")
    hinted = core.with_frontend(Frontend(group_hint=HINT))
    text = answer(hinted, "/start", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    assert text.startswith("Guten Tag!")
    assert HINT not in text
    assert HINT not in answer(hinted, "/hilfe")


def test_unknown_command(core: Core) -> None:
    text = answer(core, "/foo")
    assert "Den Befehl /foo kenne ich nicht" in text
    assert "/hilfe" in text


def test_unknown_command_name_is_escaped(core: Core) -> None:
    text = answer(core, "/foo<b>&")
    assert "/foo&lt;b&gt;&amp;" in text


# -- who may talk to the bot ------------------------------------------------------------------


def assert_refused(replies: list[Reply], chat_id: str) -> None:
    assert len(replies) == 1
    text = replies[0].text
    assert "\n" not in text
    assert "nur für das Koordinierungsteam" in text
    assert str(chat_id) in text
    assert replies[0].buttons == ()


def test_private_chat_of_a_non_admin_is_refused(core: Core, store: Store) -> None:
    for text in ("/status AP3", "/plan", "Hallo?", "AP3: 60 %"):
        assert_refused(ask(core, text, chat_id=ANNA, chat_type="private"), ANNA)
    assert store.updates() == []
    assert store.marks() == []


def test_group_not_allowed_refuses_commands_and_addressed_messages(core: Core) -> None:
    for text in ("/status AP3", "/start", "Bot, wie steht AP3?", "bot: hallo", "? AP3"):
        assert_refused(ask(core, text, chat_id=OTHER_GROUP), OTHER_GROUP)
    assert_refused(ask(core, "hallo", chat_id=OTHER_GROUP, mentions_bot=True), OTHER_GROUP)
    assert_refused(ask(core, "danke", chat_id=OTHER_GROUP, reply_to_bot=True), OTHER_GROUP)


def test_group_not_allowed_ignores_chatter_and_stores_nothing(core: Core, store: Store) -> None:
    before = store.path.read_bytes()
    for text in ("Guten Morgen zusammen", "AP3: 60 %", "AP3: Einladungen verschickt, 60 %",
                 "BiKo hat stattgefunden"):
        assert ask(core, text, chat_id=OTHER_GROUP) == []
    assert ask(core, "AP3: 70 %", chat_id=OTHER_GROUP, edited=True) == []
    assert store.updates() == []
    assert store.marks() == []
    assert store.path.read_bytes() == before


def test_group_not_allowed_cannot_press_buttons(core: Core, store: Store) -> None:
    replies = ask(core, "AP3: 60 %")
    data = replies[0].buttons[0].data
    result = press(core, data, ANNA, chat_id=OTHER_GROUP)
    assert "nur für das Koordinierungsteam" in result.notice
    assert result.new_text is None
    assert len(live(store)) == 1


def test_private_chat_of_an_admin_works(core: Core) -> None:
    text = answer(core, "/status AP3", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    assert text.startswith("<b>AP 3 · Bildungskonferenzen</b>")


def test_further_allowed_group_works(core: Core, store: Store) -> None:
    assert answer(core, "/status AP3", chat_id=EXTRA_GROUP).startswith("<b>AP 3")
    assert "AP 3" in answer(core, "AP3: 60 %", chat_id=EXTRA_GROUP)
    assert len(store.updates()) == 1


def test_messages_from_bots_are_ignored(core: Core, store: Store) -> None:
    for text in ("/status AP3", "AP3: Einladungen verschickt, 60 %", "Bot, hallo"):
        assert ask(core, text, is_bot=True) == []
        assert ask(core, text, is_bot=True, chat_type="private", chat_id=ANNA) == []
    assert store.updates() == []


# -- progress in the chat -----------------------------------------------------------------


def test_progress_message_is_confirmed_with_an_undo_button(core: Core, store: Store) -> None:
    replies = ask(core, "AP3: Einladungen verschickt, 60 %", message_id="42")
    assert len(replies) == 1
    assert "AP 3" in replies[0].text
    assert "60 %" in replies[0].text
    assert replies[0].buttons == (Button("Rückgängig", "undo:42"),)
    [update] = store.updates()
    assert (update.ap, update.percent, update.message_id) == ("AP3", 60, "42")
    assert update.text == "AP3: Einladungen verschickt, 60 %"
    assert update.author.name == "Anna"


def test_status_shows_the_latest_reports(core: Core) -> None:
    ask(core, "AP3: Einladungen verschickt, 60 %")
    text = answer(core, "/status AP3")
    assert "Gemeldeter Stand: ohne Zustand · 60 % (letzte Meldung heute)" in text
    assert "<b>Letzte Meldungen</b>" in text
    assert "• 26.11.2026 Anna: AP3: Einladungen verschickt, 60 %" in text


def test_undo_button_of_another_member_is_refused(core: Core, store: Store) -> None:
    data = ask(core, "AP3: Einladungen verschickt, 60 %")[0].buttons[0].data
    result = press(core, data, BERT)
    assert "nur, wer die Meldung geschrieben hat" in result.notice
    assert result.new_text is None
    assert len(live(store)) == 1
    assert "Letzte Meldungen" in answer(core, "/status AP3")


def test_undo_button_of_the_author_withdraws(core: Core, store: Store) -> None:
    data = ask(core, "AP3: Einladungen verschickt, 60 %")[0].buttons[0].data
    result = press(core, data, ANNA)
    assert result.notice == "Zurückgenommen."
    assert result.new_text is not None
    assert "Zurückgenommen: AP 3" in result.new_text
    assert "Anna" in result.new_text
    assert live(store) == []
    assert len(store.updates()) == 1  # kept for the audit, marked withdrawn
    status = answer(core, "/status AP3")
    assert "Letzte Meldungen" not in status
    assert "Einladungen" not in status
    assert "Gemeldeter Stand: noch keine Meldung" in status
    again = press(core, data, ANNA)
    assert "schon zurückgenommen" in again.notice


def test_undo_button_of_an_admin_withdraws(core: Core, store: Store) -> None:
    data = ask(core, "AP3: Einladungen verschickt, 60 %")[0].buttons[0].data
    assert press(core, data, ADMIN).notice == "Zurückgenommen."
    assert live(store) == []


def test_unknown_button(core: Core) -> None:
    assert "kenne ich nicht" in press(core, "foo:1", ANNA).notice
    assert "gibt es nicht mehr" in press(core, "undo:777", ANNA).notice


def test_undo_command_withdraws_the_senders_last_report(core: Core, store: Store) -> None:
    ask(core, "AP3: Einladungen verschickt", date=NOW - timedelta(hours=2))
    ask(core, "AP8: Pressemitteilung raus", date=NOW - timedelta(hours=1))
    ask(core, "AP5: Steuerungsgruppe vorbereitet", user_id=BERT)
    text = answer(core, "/rueckgaengig")
    assert "Zurückgenommen: AP 8" in text
    assert "Pressemitteilung" in text
    assert sorted(u.ap for u in live(store)) == ["AP3", "AP5"]
    assert "Zurückgenommen: AP 3" in answer(core, "/undo")
    assert "keine Meldung von Ihnen" in answer(core, "/rueckgaengig")
    assert [u.ap for u in live(store)] == ["AP5"]


def test_edited_message_changes_its_record(core: Core, store: Store) -> None:
    ask(core, "AP3: Einladungen verschickt, 60 %", message_id="50")
    replies = ask(core, "AP3: Einladungen verschickt, 80 %", message_id="50", edited=True)
    assert len(replies) == 1
    assert "geändert" in replies[0].text
    assert "80 %" in replies[0].text
    [update] = store.updates()
    assert update.percent == 80
    assert update.text == "AP3: Einladungen verschickt, 80 %"
    assert "80 %" in answer(core, "/status AP3")


def test_edited_message_that_no_longer_names_an_ap_withdraws(core: Core, store: Store) -> None:
    ask(core, "AP3: Einladungen verschickt", message_id="51")
    text = answer(core, "Einladungen verschickt", message_id="51", edited=True)
    assert "zurückgenommen" in text
    assert live(store) == []


def test_edited_command_gets_no_reply(core: Core, store: Store) -> None:
    assert ask(core, "/status AP3", edited=True) == []
    assert ask(core, "/update AP3 Einladungen verschickt", edited=True) == []
    assert store.updates() == []


def test_progress_for_an_ap_not_in_the_plan(core: Core, store: Store) -> None:
    text = answer(core, "AP 14: x")
    assert "AP 14 gibt es nicht" in text
    assert "AP 1 bis AP 13" in text
    assert "nichts gespeichert" in text
    assert store.updates() == []


def test_plain_chatter_gets_no_reply(core: Core, store: Store) -> None:
    for text in ("Guten Morgen zusammen", "Wer bringt Kuchen mit?", "Danke!"):
        assert ask(core, text) == []
    assert store.updates() == []


def test_addressed_message_that_is_not_understood_gets_help(core: Core) -> None:
    text = answer(core, "Bot, mach mal Kaffee")
    assert "nicht verstanden" in text
    assert "/hilfe" in text


def test_html_in_user_text_is_escaped(core: Core) -> None:
    ask(core, "AP3: <b>fett</b> & Co")
    for command in ("/status AP3", "/verlauf AP3"):
        text = answer(core, command)
        assert "&lt;b&gt;fett&lt;/b&gt; &amp; Co" in text
        assert "<b>fett</b>" not in text


def test_very_long_message_is_stored_whole_and_replies_fit(core: Core, store: Store) -> None:
    words = ("Einladungen verschickt & Räume <gebucht> für die Bildungskonferenz, "
             "Rückmeldungen der Schulen eingeholt. ")
    text = "AP3: " + (words * 200)[:9995]
    assert len(text) == 10_000
    replies = ask(core, text)
    assert replies and "AP 3" in replies[0].text
    [update] = store.updates()
    assert update.text == text
    for command in ("/status AP3", "/verlauf AP3", "/plan"):
        for reply in ask(core, command):
            assert len(reply.text) <= TELEGRAM_LIMIT


def test_long_answers_are_split_as_the_front_end_says(core: Core) -> None:
    """Each front-end names its message limit; the console's terminal has none."""
    for i in range(50):
        ask(core, f"AP3: Schritt {i} – Einladungen verschickt",
            date=NOW - timedelta(minutes=60 - i))
    small = core.with_frontend(Frontend("klein", max_length=500))
    parts = ask(small, "/verlauf AP3 50")
    assert len(parts) > 4 and all(len(p.text) <= 500 for p in parts)
    [whole] = ask(core.with_frontend(Frontend("console", max_length=None)), "/verlauf AP3 50")
    assert whole.text.count("Schritt") == 50 and len(whole.text) > 2000
    assert "\n".join(p.text for p in parts).count("Schritt") == 50


def test_many_reports_make_verlauf_split_into_parts(core: Core) -> None:
    for i in range(50):
        ask(core, f"AP3: Schritt {i} – " + "<&>" * 100, date=NOW - timedelta(minutes=60 - i))
    replies = ask(core, "/verlauf AP3 50")
    assert len(replies) > 1
    assert all(len(r.text) <= TELEGRAM_LIMIT for r in replies)
    joined = "\n".join(r.text for r in replies)
    assert joined.count("Schritt") == 50
    # every part is well-formed on its own: no line and no entity cut apart
    for r in replies:
        assert r.text.count("<i>") == r.text.count("</i>")
        assert not re.search(r"&(?!amp;|lt;|gt;)", r.text)


# -- /verlauf and /update ------------------------------------------------------------------


def test_verlauf_newest_first_and_with_a_count(core: Core) -> None:
    ask(core, "AP3: Konzept steht", date=NOW - timedelta(days=3))
    ask(core, "AP3: Einladungen verschickt, 60 %", date=NOW - timedelta(days=2), user_id=BERT)
    ask(core, "AP3: Räume gebucht", date=NOW - timedelta(days=1))
    text = answer(core, "/verlauf AP3")
    lines = text.split("\n")
    assert lines[0] == ("<b>Verlauf AP 3 · Bildungskonferenzen</b> (neueste zuerst, 3 von 3)")
    assert lines[1] == "• 25.11.2026 Anna: AP3: Räume gebucht"
    assert lines[2] == "• 24.11.2026 Bert: AP3: Einladungen verschickt, 60 % <i>(60 %)</i>"
    assert lines[3] == "• 23.11.2026 Anna: AP3: Konzept steht"
    two = answer(core, "/verlauf AP3 2").split("\n")
    assert two[0].endswith("(neueste zuerst, 2 von 3)")
    assert len(two) == 3
    assert "Räume" in two[1]
    assert "Konzept" not in "\n".join(two)


def test_verlauf_shows_withdrawn_reports_struck_through(core: Core) -> None:
    ask(core, "AP3: Räume gebucht")
    ask(core, "/rueckgaengig")
    text = answer(core, "/verlauf AP3")
    assert "<s>26.11.2026 Anna: AP3: Räume gebucht</s> (zurückgenommen)" in text


def test_verlauf_without_reports_and_bad_input(core: Core) -> None:
    assert "Zu AP 3 ist noch nichts gemeldet" in answer(core, "/verlauf AP3")
    assert "Welches Arbeitspaket?" in answer(core, "/verlauf")
    assert answer(core, "/verlauf AP14") == "AP 14 gibt es nicht – der Plan hat AP 1 bis AP 13."
    assert "finde ich kein Arbeitspaket" in answer(core, "/verlauf Quantenphysik")


def test_verlauf_with_a_space_in_the_ap_name(core: Core) -> None:
    ask(core, "AP3: Räume gebucht")
    assert answer(core, "/verlauf AP 3").startswith("<b>Verlauf AP 3")


def test_update_command_records(core: Core, store: Store) -> None:
    replies = ask(core, "/update AP3 Text", message_id="77")
    assert len(replies) == 1
    assert "gespeichert: AP 3" in replies[0].text
    assert replies[0].buttons == (Button("Rückgängig", "undo:77"),)
    [update] = store.updates()
    assert (update.ap, update.text) == ("AP3", "Text")


def test_update_command_usage(core: Core, store: Store) -> None:
    assert "So geht es: /update AP3" in answer(core, "/update")
    assert "Was gibt es Neues zu AP 3?" in answer(core, "/update AP3")
    text = answer(core, "/update AP14 x")
    assert "AP 14 gibt es nicht" in text
    assert "nichts gespeichert" in text
    assert store.updates() == []



@pytest.mark.parametrize(("args", "ap", "text"), [
    ("Bildungsportal: Prototyp steht", "AP4", "Prototyp steht"),
    ("Bildungsportal Prototyp steht, 40 %", "AP4", "Prototyp steht, 40 %"),
    ("netzwerkarbeit Vortrag gehalten", "AP9", "Vortrag gehalten"),
    ("Koordinierung und Steuerung: Protokoll verschickt", "AP5", "Protokoll verschickt"),
])
def test_update_command_takes_the_ap_by_a_title_word(core: Core, store: Store, args: str,
                                                     ap: str, text: str) -> None:
    assert f"gespeichert: AP {ap[2:]}" in answer(core, f"/update {args}")
    [update] = store.updates()
    assert (update.ap, update.text) == (ap, text)


@pytest.mark.parametrize(("args", "says"), [
    ("Bildung Text", "passen mehrere Arbeitspakete: AP 3 (Bildungskonferenzen), AP 4"),
    ("Kooperationsstrukturen: Treffen war gut", "AP 6 (Aufbau, Weiterführung"),
    ("Protokoll fertig", "So geht es: /update AP3"),  # a description word names no AP here
])
def test_update_command_with_no_single_title_stores_nothing(core: Core, store: Store,
                                                            args: str, says: str) -> None:
    assert says in answer(core, f"/update {args}")
    assert store.updates() == []


# -- a message that might be a report: asked with buttons ------------------------------------


def test_unsure_message_asks_with_speichern_and_nein(core: Core, store: Store) -> None:
    [reply] = ask(core, "AP 9 Vortrag beim Landesnetzwerk gehalten", message_id="501")
    assert reply.text.startswith("🤔 Als Meldung zu AP 9 speichern?")
    assert [b.label for b in reply.buttons] == ["Speichern", "Nein"]
    assert store.updates() == []  # unanswered, nothing is stored
    save = reply.buttons[0].data
    # a colleague cannot answer for Anna
    assert "nur, wer die Nachricht geschrieben hat" in press(core, save, BERT).notice
    assert store.updates() == []
    result = press(core, save, ANNA)
    assert result.notice == "Gespeichert."
    [(chat, confirmation)] = result.posts
    assert chat == TEAM
    assert confirmation.text == "✅ gespeichert: AP 9"
    assert confirmation.buttons == (Button("Rückgängig", "undo:501"),)
    [update] = store.updates()
    assert (update.ap, update.message_id, update.author.name) == ("AP9", "501", "Anna")
    assert press(core, save, ANNA).notice == "Diese Frage ist schon beantwortet."
    assert press(core, "undo:501", ANNA).notice == "Zurückgenommen."


def test_nein_from_an_admin_stores_nothing(core: Core, store: Store) -> None:
    [reply] = ask(core, "AP 5 ist fertig – mit meinen Nerven 😅")
    result = press(core, reply.buttons[1].data, ADMIN)
    assert result.notice == "Nicht gespeichert."
    assert "Nein (Chef)" in (result.new_text or "")
    assert store.updates() == []
    assert press(core, reply.buttons[0].data, ANNA).notice == "Diese Frage ist schon beantwortet."


def test_unclear_biko_asks_which_with_a_button_for_each(core: Core, store: Store) -> None:
    [reply] = ask(core, "BiKo 2026 hat stattgefunden")
    assert "M3.2 (fällig 30.06.2026) oder M3.3 (fällig 31.12.2026)" in reply.text
    assert [b.label for b in reply.buttons] == ["M3.2", "M3.3", "Keiner"]
    assert store.marks() == []
    result = press(core, reply.buttons[1].data, ANNA)
    [(_, confirmation)] = result.posts
    assert "Meilenstein M3.3" in confirmation.text
    assert [m.milestone for m in store.marks()] == ["M3.3"]


@pytest.mark.parametrize("data", ["ask:x:s", "ask:999:s", "ask:", "ask:1:7", "ask:1:²"])
def test_forged_question_buttons_get_a_german_answer(core: Core, store: Store,
                                                     data: str) -> None:
    ask(core, "AP 9 Vortrag gehalten")
    notice = press(core, data, ANNA).notice
    assert notice in ("Diese Schaltfläche kenne ich nicht (mehr).",
                      "Diese Frage gibt es nicht mehr.")
    assert store.updates() == []

# -- when the disk fails -----------------------------------------------------------------------


def database_files(store: Store) -> dict[Path, bytes]:
    """Every file of the database: the main file, the log chunks and the journal.

    An empty journal holds nothing: whether it exists does not count."""
    files = [store.path, *sorted((store.data_dir / "log").glob("*.json")),
             store.data_dir / "log" / "journal.jsonl"]
    return {p: p.read_bytes() for p in files if p.exists() and p.stat().st_size}


def _disk_full(*args: object) -> None:
    raise OSError(28, "No space left on device")


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fsync fails, as on a full disk: neither the journal nor a file gets written."""
    monkeypatch.setattr(workflows.storage.os, "fsync", _disk_full)


def test_write_failure_is_reported_and_nothing_changes(
    core: Core, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = database_files(store)
    disk_full(monkeypatch)
    text = answer(core, "AP3: Einladungen verschickt, 60 %")
    assert "nicht speichern" in text
    assert database_files(store) == before
    assert store.updates() == []
    assert "store write failed" in caplog.text
    monkeypatch.undo()
    replies = ask(core, "AP3: Einladungen verschickt, 60 %")
    assert "gespeichert: AP 3" in replies[0].text
    assert len(store.updates()) == 1
    assert database_files(store) != before


def test_write_failure_on_undo_press(core: Core, store: Store,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = ask(core, "AP3: Einladungen verschickt, 60 %")[0].buttons[0].data
    disk_full(monkeypatch)
    result = press(core, data, ANNA)
    assert "nicht speichern" in result.notice
    assert result.new_text is None
    monkeypatch.undo()
    assert len(live(store)) == 1
    assert press(core, data, ANNA).notice == "Zurückgenommen."


def test_a_report_naming_two_aps_is_one_write(core: Core, store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Both APs land together or neither does: a failed write stores nothing."""
    ask(core, "AP5: läuft")
    journal = store.data_dir / "log" / "journal.jsonl"
    lines = len(journal.read_bytes().splitlines())
    ask(core, "AP3 und AP8: 40 %")
    assert len(journal.read_bytes().splitlines()) == lines + 1
    disk_full(monkeypatch)
    assert "nicht speichern" in answer(core, "AP3 und AP9: 50 %")
    monkeypatch.undo()
    assert sorted(u.ap for u in store.updates()) == ["AP3", "AP5", "AP8"]
    assert not any(b"50 %" in data for data in database_files(store).values())
    ask(core, "AP3 und AP9: 50 %")  # sent again, as the reply asks: recorded once
    assert sorted(u.ap for u in store.updates()) == ["AP3", "AP3", "AP5", "AP8", "AP9"]


def test_a_report_typed_at_the_console_carries_the_console_name(
        settings: Settings, plan: Plan, store: Store) -> None:
    core = Core(Context(replace(settings, console_name="Anna Schulze"), plan, store), COMMANDS)
    out = io.StringIO()
    console = Console(core, lambda: NOW, out)
    console.say("AP3: Einladungen verschickt")
    console.say("/verlauf AP3")
    assert "Anna Schulze: AP3: Einladungen verschickt" in out.getvalue()
    assert "Konsole" not in out.getvalue()


# -- /rueckgaengig: the last reports to choose from -------------------------------------------


def test_undo_offers_the_authors_earlier_reports(core: Core, store: Store) -> None:
    ask(core, "AP3: Einladungen verschickt", message_id="601", date=NOW - timedelta(hours=3))
    ask(core, "AP5: Steuerungsgruppe vorbereitet", user_id=BERT, message_id="602",
        date=NOW - timedelta(hours=2))
    ask(core, "/update AP4 Prototyp steht", message_id="603", date=NOW - timedelta(hours=1))
    ask(core, "AP8: Pressemitteilung raus", message_id="604")
    [reply] = ask(core, "/rueckgaengig", message_id="605")
    assert "Zurückgenommen: AP 8" in reply.text
    assert [(b.label, b.data) for b in reply.buttons] == [
        ("26.11. AP 4: Prototyp steht", "undo:603"),
        ("26.11. AP3: Einladungen verschickt", "undo:601")]  # not Bert's
    # handled again after a restart: nothing more is withdrawn, the same buttons are offered
    [again] = ask(core, "/rueckgaengig", message_id="605")
    assert again == reply
    assert sorted(u.ap for u in live(store)) == ["AP3", "AP4", "AP5"]
    assert press(core, "undo:601", ANNA).notice == "Zurückgenommen."
    assert sorted(u.ap for u in live(store)) == ["AP4", "AP5"]


def test_undo_list_withdraws_nothing_and_admins_see_everyones(core: Core, store: Store) -> None:
    ask(core, "AP3: Einladungen verschickt", message_id="611", date=NOW - timedelta(hours=1))
    ask(core, "AP5: Steuerungsgruppe vorbereitet", user_id=BERT, message_id="612")
    [mine] = ask(core, "/rueckgaengig liste")
    assert [b.data for b in mine.buttons] == ["undo:611"]
    assert "nur Admins" in answer(core, "/rueckgaengig alle")
    [everyone] = ask(core, "/rueckgaengig alle", user_id=ADMIN)
    assert [(b.label, b.data) for b in everyone.buttons] == [
        ("26.11. Bert · AP5: Steuerungsgruppe vorbereitet", "undo:612"),
        ("26.11. Anna · AP3: Einladungen verschickt", "undo:611")]
    assert len(live(store)) == 2  # a list withdraws nothing
    assert "nur, wer die Meldung geschrieben hat" in press(core, "undo:612", ANNA).notice
    assert press(core, "undo:612", ADMIN).notice == "Zurückgenommen."
    assert "So geht es: /rueckgaengig" in answer(core, "/rueckgaengig AP3")
    assert [u.ap for u in live(store)] == ["AP3"]


def test_a_report_about_a_past_day_says_the_day_it_counts_for(core: Core, store: Store) -> None:
    text = answer(core, "AP3: am 10.09.2026 Einladungen verschickt", date=NOW)
    assert "📅 gilt für den 10.09.2026" in text
    text = answer(core, "/update AP3 am 12.09.2026 Raum gebucht", date=NOW)
    assert "📅 gilt für den 12.09.2026" in text
    assert [u.at.date().isoformat() for u in store.updates()] == ["2026-09-10", "2026-09-12"]
    assert "📅" not in answer(core, "AP3 läuft", date=NOW)


def test_an_unclear_edit_keeps_the_report_and_says_so(core: Core, store: Store) -> None:
    ask(core, "AP 9 läuft", message_id="701")
    [reply] = ask(core, "AP 9 Vortrag gehalten", message_id="701", edited=True)
    assert reply.buttons == ()
    assert reply.text.endswith("Die bisherige Meldung bleibt, wie sie war.")
    assert [(u.state, u.withdrawn) for u in store.updates()] == [("läuft", False)]


def test_help_speaks_of_what_the_front_end_can_do(core: Core) -> None:
    chat = answer(core.with_frontend(Frontend()), "/hilfe")
    assert "„Rückgängig“ oder /rueckgaengig" in chat and "Nachricht einfach bearbeiten" in chat
    plain = answer(core.with_frontend(Frontend(buttons=False, edits=False)), "/hilfe")
    assert "„Rückgängig“" not in plain and "„Speichern“" not in plain
    assert "/rueckgaengig nimmt sie zurück" in plain and "bearbeiten" not in plain
