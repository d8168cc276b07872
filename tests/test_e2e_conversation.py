"""End-to-end: progress reports and questions through the real process and the fake Bot API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.bot_process import ADMIN_ID, MEMBER_ID, BotProcess
from tests.fake_bot_api import DEFAULT_GROUP_ID, Call, FakeBotAPI
from workflows.store import Store

pytestmark = pytest.mark.e2e


@pytest.fixture
def api() -> FakeBotAPI:
    with FakeBotAPI(can_read_all_group_messages=True) as fake:
        yield fake


class Chat:
    """Sends as group members and waits for the bot's next answer."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.seen = 0

    def reply(self) -> Call:
        calls = self.api.wait_for("sendMessage", count=self.seen + 1,
                                  predicate=lambda c: c.ok)
        self.seen = len(calls)
        return calls[-1]

    def say(self, text: str, **kw: object) -> Call:
        self.api.push_message(text, **kw)  # type: ignore[arg-type]
        return self.reply()


def test_update_confirm_status_edit_undo_across_a_restart(api: FakeBotAPI,
                                                         tmp_path: Path) -> None:
    chat = Chat(api)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with BotProcess(api, data, log):
        sent = api.push_message("AP3: Einladungen verschickt, 60 %", user_id=MEMBER_ID,
                                first_name="Ben")
        confirmation = chat.reply()
        assert "AP 3" in confirmation.params["text"] and "60 %" in confirmation.params["text"]
        assert confirmation.params["reply_markup"]["inline_keyboard"][0][0]["text"] == \
            "Rückgängig"
        status = chat.say("/status AP3")
        assert "Ben: AP3: Einladungen verschickt, 60 %" in status.params["text"]

    with BotProcess(api, data, log):  # a restart: all of it is still there
        status = chat.say("/status AP3")
        assert "Einladungen verschickt, 60 %" in status.params["text"]

        message_id = sent["message"]["message_id"]
        api.push_message("AP3: Einladungen verschickt, 70 %", user_id=MEMBER_ID,
                         first_name="Ben", message_id=message_id, edited=True)
        edited = chat.reply()
        assert "70 %" in edited.params["text"]
        status = chat.say("/status AP3")
        assert "70 %" in status.params["text"]
        assert "60 %" not in status.params["text"]

        # Someone else may not undo Ben's report; Ben may.
        api.click_button(confirmation.result, "Rückgängig", user_id=4242, first_name="Eve")
        refused = api.wait_for("answerCallbackQuery")[0]
        assert "Zurücknehmen kann nur" in refused.params["text"]
        api.click_button(confirmation.result, "Rückgängig", user_id=MEMBER_ID,
                         first_name="Ben")
        answers = api.wait_for("answerCallbackQuery", count=2)
        assert answers[1].params["text"] == "Zurückgenommen."
        api.wait_for("editMessageText")
        status = chat.say("/status AP3")
        assert "Einladungen verschickt" not in status.params["text"]
        history = chat.say("/verlauf AP3")
        assert "<s>" in history.params["text"]  # kept, marked withdrawn

    store = Store.open(data, datetime.now(ZoneInfo("Europe/Berlin")), read_only=True)
    try:
        texts = [u.text for u in store.updates()]
    finally:
        store.close()
    assert sum("Einladungen verschickt" in t for t in texts) == 1  # the edit changed, never added


def test_milestone_caption_forward_and_bots(api: FakeBotAPI, tmp_path: Path) -> None:
    chat = Chat(api)
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log"):
        reached = chat.say("Die BiKo hat am 12.06.2026 stattgefunden")
        # The date picks the open BiKo due nearest to it: M3.2, due 30.06.2026.
        assert "M3.2" in reached.params["text"] and "12.06.2026" in reached.params["text"]
        photo = chat.say("AP8: Fotos von der BiKo", photo=True)
        assert "AP 8" in photo.params["text"]
        forwarded = chat.say("AP 5 läuft", forward_origin={
            "type": "user", "date": 1764000000,
            "sender_user": {"id": 77, "is_bot": False, "first_name": "Clara"}})
        assert "Clara" in forwarded.params["text"]
        api.push_message("AP3: ich bin ein Bot, 99 %", user_id=888, first_name="Spam",
                         is_bot=True)
        api.push_message("Mittagessen um 12?", user_id=MEMBER_ID)
        status = chat.say("/status AP3")  # neither the bot nor the chatter got an answer
        assert "99 %" not in status.params["text"]
        assert "M3.2 BiKo hat stattgefunden – erreicht am 12.06.2026" in status.params["text"]


def test_unknown_ap_is_refused(api: FakeBotAPI, tmp_path: Path) -> None:
    chat = Chat(api)
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log"):
        refused = chat.say("AP 14: Flyer gedruckt")
        assert "AP 14 gibt es nicht" in refused.params["text"]
        assert "nichts gespeichert" in refused.params["text"]


def test_questions_private_mention_and_not_addressed(api: FakeBotAPI, tmp_path: Path) -> None:
    chat = Chat(api)
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log"):
        private = chat.say("Wann ist die nächste BiKo?", chat_type="private", user_id=ADMIN_ID)
        assert private.params["chat_id"] == ADMIN_ID
        assert "M3." in private.params["text"] and "fällig" in private.params["text"]

        api.push_message("Wer bringt morgen Kuchen mit?", user_id=MEMBER_ID)  # to colleagues
        mention = chat.say("@apbot_test_bot Wer ist für AP 4 zuständig?", user_id=MEMBER_ID)
        assert mention.params["chat_id"] == DEFAULT_GROUP_ID
        assert "AP 4" in mention.params["text"] and "zuständig" in mention.params["text"]
        # The colleagues' question got no answer: the mention's reply came right after the
        # private one.
        assert len([c for c in api.calls("sendMessage") if c.ok]) == 2
        # A plain question about the plan needs no prefix.
        plain = chat.say("Was ist dieses Quartal fällig?", user_id=MEMBER_ID)
        assert plain.params["chat_id"] == DEFAULT_GROUP_ID
        assert "dieses Quartal" in plain.params["text"]

        puzzled = chat.say("Bot, wie wird das Wetter?", user_id=MEMBER_ID)
        assert "nicht verstanden" in puzzled.params["text"]
        assert "nächste BiKo" in puzzled.params["text"]


def test_update_command_works_with_privacy_mode(tmp_path: Path) -> None:
    with FakeBotAPI(can_read_all_group_messages=False) as api:
        chat = Chat(api)
        with BotProcess(api, tmp_path / "data", tmp_path / "bot.log"):
            hint = chat.say("/start")
            assert "Datenschutzmodus" in hint.params["text"]
            done = chat.say("/update AP3 Raum gebucht, 40 %")
            assert "AP 3" in done.params["text"] and "40 %" in done.params["text"]


def test_an_unsure_message_asks_and_stores_only_on_speichern(api: FakeBotAPI,
                                                            tmp_path: Path) -> None:
    chat = Chat(api)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with BotProcess(api, data, log):
        api.push_message("Die Kaffeemaschine ist fertig entkalkt", user_id=MEMBER_ID)  # chatter
        asked = chat.say("AP 9 Vortrag beim Landesnetzwerk gehalten", user_id=MEMBER_ID,
                         first_name="Ben")
        assert "Als Meldung zu AP 9 speichern?" in asked.params["text"]
        labels = [b["text"] for row in asked.params["reply_markup"]["inline_keyboard"]
                  for b in row]
        assert labels == ["Speichern", "Nein"]
        joke = chat.say("AP 5 ist fertig – mit meinen Nerven 😅", user_id=MEMBER_ID,
                        first_name="Ben")
        api.click_button(joke.result, "Nein", user_id=MEMBER_ID, first_name="Ben")
        assert api.wait_for("answerCallbackQuery")[0].params["text"] == "Nicht gespeichert."
        history = chat.say("/verlauf AP9")
        assert "noch nichts gemeldet" in history.params["text"]  # unanswered: nothing stored

    with BotProcess(api, data, log):  # the question survives a restart
        api.click_button(asked.result, "Speichern", user_id=MEMBER_ID, first_name="Ben")
        answers = api.wait_for("answerCallbackQuery", count=2)
        assert answers[1].params["text"] == "Gespeichert."
        confirmation = chat.reply()
        assert confirmation.params["text"] == "✅ gespeichert: AP 9"
        assert confirmation.params["reply_markup"]["inline_keyboard"][0][0]["text"] == \
            "Rückgängig"
        history = chat.say("/verlauf AP9")
        assert "Ben: AP 9 Vortrag beim Landesnetzwerk gehalten" in history.params["text"]

    store = Store.open(data, datetime.now(ZoneInfo("Europe/Berlin")), read_only=True)
    try:
        assert [u.ap for u in store.updates()] == ["AP9"]  # not the chatter, not the joke
    finally:
        store.close()
