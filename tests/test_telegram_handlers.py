"""The Telegram front-end through a real python-telegram-bot Application and a fake BaseRequest."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.commands import COMMANDS
from bot.core import SORRY, Core
from bot.frontends.telegram.addressing import PRIVACY_HINT
from bot.frontends.telegram.app import (
    CORE,
    SENDER,
    USERNAME,
    build_application,
    register_menu,
)
from bot.messages import Context, Incoming
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.plan import Plan
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # the handlers' clock, whatever the machine's
STAMP = int(NOW.timestamp())  # message dates on that clock
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

TEAM = -1001234567890
OTHER_GROUP = -1009999999999
ADMIN, ANNA, BERT = 11, 22, 33
BOT_USER: dict[str, Any] = {
    "id": 999000, "is_bot": True, "first_name": "apbot", "username": "apbot_test_bot",
    "can_join_groups": True, "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
USERS: dict[int, dict[str, Any]] = {
    ADMIN: {"id": ADMIN, "is_bot": False, "first_name": "Chef", "language_code": "de"},
    ANNA: {"id": ANNA, "is_bot": False, "first_name": "Anna", "last_name": "Schmidt",
           "language_code": "de"},
    BERT: {"id": BERT, "is_bot": False, "first_name": "Bert", "language_code": "de"},
}


class FakeRequest(BaseRequest):
    """Answers the Bot API methods apbot uses and records every call's parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, tuple[int, str]] = {}  # method -> (HTTP status, description)
        self._message_ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None,
                         ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        self.calls.append((api_method, params))
        if api_method in self.failures:
            status, description = self.failures[api_method]
            body = {"ok": False, "error_code": status, "description": description}
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return BOT_USER
        if api_method == "getChatMember":  # Anna is in the team chat, Bert is not
            user_id = int(params["user_id"])
            status = "member" if user_id == ANNA else "left"
            return {"status": status, "user": USERS.get(user_id) or {
                "id": user_id, "is_bot": False, "first_name": "Fremd"}}
        if api_method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message_id = (int(params["message_id"]) if "message_id" in params
                          else next(self._message_ids))
            return {
                "message_id": message_id, "date": STAMP,
                "chat": {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"},
                "from": BOT_USER, "text": params["text"],
            }
        return True

    def sent(self, api_method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == api_method]


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data", NOW)
    yield s
    s.close()


@pytest.fixture
def core(tmp_path: Path, plan: Plan, store: Store) -> Core:
    settings = Settings(token=TOKEN, team_chat_id=str(TEAM), admin_ids=frozenset({str(ADMIN)}),
                        timezone=TZ, data_dir=tmp_path / "data", plan_path=PLAN_PATH)
    return Core(Context(settings, plan, store), COMMANDS)


@pytest.fixture
def fake() -> FakeRequest:
    return FakeRequest()


@pytest.fixture
async def app(core: Core, fake: FakeRequest) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    # The module's own wiring, over requests that talk to the fake.
    application = build_application(core, clock=lambda: NOW, transport=(fake, fake))
    async with application:
        await register_menu(application)
        fake.calls.clear()
        yield application


_update_ids = itertools.count(1)
_message_ids = itertools.count(100)


def message(text: str | None = "", *, user: int = ANNA, chat_id: int = TEAM,
            chat_type: str = "supergroup", **extra: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = USERS[user]["first_name"]
    else:
        chat["title"] = "Koordinierungsteam Bildungskommunen"
    msg: dict[str, Any] = {"message_id": next(_message_ids), "date": STAMP,
                           "chat": chat, "from": USERS[user], **extra}
    if text:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return msg


async def feed(app: Application, **update: Any) -> None:  # type: ignore[type-arg]
    """Handle one update and wait for everything it sends, in the background too."""
    await app.process_update(Update.de_json({"update_id": next(_update_ids), **update}, app.bot))
    await app.bot_data[SENDER].flush()


async def say(app: Application, text: str, **fields: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    msg = message(text, **fields)
    await feed(app, message=msg)
    return msg


# -- start-up ---------------------------------------------------------------------------------


async def test_register_menu_learns_identity_and_sets_the_commands(
    core: Core, fake: FakeRequest
) -> None:
    application = build_application(core, transport=(fake, fake))
    async with application:
        assert application.updater is None, "apbot's own loop fetches the updates"
        await register_menu(application)
        named: Core = application.bot_data[CORE]
        assert application.bot_data[USERNAME] == "apbot_test_bot"
        # getMe says privacy mode is on: /start in a group tells how to turn it off.
        assert named.ctx.frontend.group_hint == PRIVACY_HINT
        assert named.ctx.frontend.max_length == 4096
    [params] = fake.sent("setMyCommands")
    names = [c["command"] for c in params["commands"]]
    assert names == [c.name for c in COMMANDS.ordered if c.menu]
    assert {"status", "plan", "update", "rueckgaengig", "verlauf", "hilfe"} <= set(names)
    assert "start" not in names
    assert "help" not in names  # aliases stay out of the menu
    assert all(c["description"] for c in params["commands"])


def test_build_application_needs_a_token(core: Core) -> None:
    tokenless = Core(Context(Settings(), core.ctx.plan, core.ctx.store), COMMANDS)
    with pytest.raises(ValueError, match="no token"):
        build_application(tokenless)


async def test_failing_set_my_commands_is_logged_and_the_bot_keeps_working(
    app: Application, fake: FakeRequest, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    fake.failures["setMyCommands"] = (400, "Bad Request: command description is too long")
    with caplog.at_level(logging.WARNING, logger="bot.frontends.telegram.app"):
        await register_menu(app)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "could not register the command menu" in r.getMessage()]
    assert len(warnings) == 1
    assert "command description is too long" in warnings[0].getMessage().lower()
    await say(app, "/status AP3")
    [sent] = fake.sent()
    assert sent["text"].startswith("<b>AP 3 · Bildungskonferenzen</b>")


# -- messages ---------------------------------------------------------------------------------


async def test_group_status_is_answered_in_html_quoting_the_question(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    msg = await say(app, "/status AP3")
    [sent] = fake.sent()
    assert sent["chat_id"] == TEAM
    assert sent["parse_mode"] == "HTML"
    assert sent["reply_parameters"]["message_id"] == msg["message_id"]
    assert sent["reply_parameters"]["allow_sending_without_reply"] is True
    assert sent["text"].startswith("<b>AP 3 · Bildungskonferenzen</b>")
    assert "Quartal" in sent["text"]
    assert "reply_markup" not in sent


async def test_status_addressed_by_name_and_to_another_bot(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    await say(app, "/status@apbot_test_bot AP3")
    await say(app, "/status@otherbot AP3")
    [sent] = fake.sent()
    assert sent["text"].startswith("<b>AP 3 · Bildungskonferenzen</b>")


async def test_start_in_the_group_explains_privacy_mode(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    await say(app, "/start")
    await say(app, "/start", user=ADMIN, chat_id=ADMIN, chat_type="private")
    group, private = fake.sent()
    assert "Datenschutzmodus" in group["text"]
    assert "Datenschutzmodus" not in private["text"]


async def test_private_chat_of_an_admin_is_answered_without_quoting(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    await say(app, "/plan", user=ADMIN, chat_id=ADMIN, chat_type="private")
    [sent] = fake.sent()
    assert sent["chat_id"] == ADMIN
    assert "reply_parameters" not in sent
    assert sent["text"].count("<b>AP ") == 13


async def test_other_chats_are_told_and_nothing_is_stored(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    await say(app, "/status AP3", chat_id=OTHER_GROUP)
    await say(app, "AP3: Einladungen verschickt, 60 %", chat_id=OTHER_GROUP)
    await say(app, "AP3: 60 %", user=BERT, chat_id=BERT, chat_type="private")
    group, private = fake.sent()
    assert group["chat_id"] == OTHER_GROUP
    assert "nur für das Koordinierungsteam" in group["text"]
    assert private["chat_id"] == BERT
    assert "nur für das Koordinierungsteam" in private["text"]
    assert store.updates() == []


async def test_a_member_of_the_team_chat_is_served_in_a_private_chat(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    await say(app, "/status AP3", user=ANNA, chat_id=ANNA, chat_type="private")
    [sent] = fake.sent()
    assert sent["text"].startswith("<b>AP 3 · Bildungskonferenzen</b>")
    assert [p["user_id"] for p in fake.sent("getChatMember")] == [ANNA]


async def test_progress_is_confirmed_with_an_undo_button(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    msg = await say(app, "AP3: Einladungen verschickt, 60 %")
    [sent] = fake.sent()
    assert "AP 3" in sent["text"]
    assert "60 %" in sent["text"]
    assert sent["reply_markup"] == {"inline_keyboard": [[
        {"text": "Rückgängig", "callback_data": f"undo:{msg['message_id']}"},
    ]]}
    [update] = store.updates()
    assert (update.ap, update.percent, update.author.name) == ("AP3", 60, "Anna Schmidt")
    assert update.message_id == str(msg["message_id"])  # the core keeps ids as text


def callback_query(app_fake: FakeRequest, data: str, user: int) -> dict[str, Any]:
    """A press on the button under the bot's last message."""
    [*_, last] = app_fake.sent()
    bot_message = {"message_id": 4999, "date": STAMP,
                   "chat": {"id": last["chat_id"], "type": "supergroup"},
                   "from": BOT_USER, "text": last["text"],
                   "reply_markup": last.get("reply_markup")}
    return {"id": f"cbq-{next(_update_ids)}", "from": USERS[user], "chat_instance": "42",
            "data": data, "message": bot_message}


async def test_pressing_undo_answers_and_edits_the_confirmation(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    msg = await say(app, "AP3: Einladungen verschickt, 60 %")
    data = f"undo:{msg['message_id']}"
    await feed(app, callback_query=callback_query(fake, data, BERT))
    [refused] = fake.sent("answerCallbackQuery")
    assert "nur, wer die Meldung geschrieben hat" in refused["text"]
    assert fake.sent("editMessageText") == []
    assert not store.updates()[0].withdrawn

    query = callback_query(fake, data, ANNA)
    await feed(app, callback_query=query)
    answered = fake.sent("answerCallbackQuery")[-1]
    assert answered["callback_query_id"] == query["id"]
    assert answered["text"] == "Zurückgenommen."
    [edited] = fake.sent("editMessageText")
    assert edited["chat_id"] == TEAM
    assert edited["message_id"] == 4999
    assert edited["parse_mode"] == "HTML"
    assert "Zurückgenommen: AP 3" in edited["text"]
    assert store.updates()[0].withdrawn


async def test_button_data_beyond_telegrams_64_bytes_travels_as_a_key(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    # A report whose message id is long (as a Matrix event id is): its undo button's
    # data does not fit into Telegram's callback_data.
    long_id = "$" + "x" * 80
    core: Core = app.bot_data[CORE]
    replies = core.handle(Incoming(text="AP3: Einladungen verschickt, 60 %", chat_id=str(TEAM),
                                   user_id=str(ANNA), user_name="Anna Schmidt",
                                   message_id=long_id), NOW)
    assert replies[0].buttons[0].data == f"undo:{long_id}"
    await app.bot_data[SENDER].replies(str(TEAM), replies)
    [sent] = fake.sent()
    [[button]] = sent["reply_markup"]["inline_keyboard"]
    assert button["callback_data"].startswith("#")
    assert len(button["callback_data"].encode()) <= 64

    await feed(app, callback_query=callback_query(fake, button["callback_data"], ANNA))
    assert fake.sent("answerCallbackQuery")[-1]["text"] == "Zurückgenommen."
    assert store.updates()[0].withdrawn
    # A key nobody gave out changes nothing and says so.
    await feed(app, callback_query=callback_query(fake, "#" + "0" * 32, ANNA))
    assert "kenne ich nicht" in fake.sent("answerCallbackQuery")[-1]["text"]


async def test_edited_command_gets_no_answer(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    msg = message("/status AP3", edit_date=STAMP)
    await feed(app, edited_message=msg)
    assert fake.sent() == []


async def test_edited_progress_message_changes_the_record(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    msg = await say(app, "AP3: Einladungen verschickt, 60 %")
    edited = {**msg, "text": "AP3: Einladungen verschickt, 80 %", "edit_date": STAMP}
    await feed(app, edited_message=edited)
    assert "geändert" in fake.sent()[-1]["text"]
    [update] = store.updates()
    assert update.percent == 80


async def test_photo_caption_is_recorded(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    photo = [{"file_id": "AgAC-photo", "file_unique_id": "AQAD-photo", "width": 1280,
              "height": 960, "file_size": 123456}]
    await feed(app, message=message(None, photo=photo, caption="AP3: Fotos von der BiKo"))
    [sent] = fake.sent()
    assert "AP 3" in sent["text"]
    [update] = store.updates()
    assert update.text == "AP3: Fotos von der BiKo"


async def test_forwarded_message_is_recorded_with_its_origin(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    origin = {"type": "user", "date": STAMP - 3600,
              "sender_user": {"id": 77, "is_bot": False, "first_name": "Carla",
                              "last_name": "Meier"}}
    await say(app, "AP8: Pressemitteilung ist raus", forward_origin=origin)
    [sent] = fake.sent()
    assert "weitergeleitet, ursprünglich von Carla Meier" in sent["text"]
    [update] = store.updates()
    assert update.ap == "AP8"
    assert update.forwarded_from == "Carla Meier"
    assert update.author.name == "Anna Schmidt"


async def test_forwarded_from_a_hidden_user(
    app: Application, store: Store  # type: ignore[type-arg]
) -> None:
    origin = {"type": "hidden_user", "date": STAMP, "sender_user_name": "D. Krause"}
    await say(app, "AP8: Flyer gedruckt", forward_origin=origin)
    assert store.updates()[0].forwarded_from == "D. Krause"


async def test_forwarded_from_a_group_names_the_group(
    app: Application, store: Store  # type: ignore[type-arg]
) -> None:
    origin = {"type": "chat", "date": STAMP,
              "sender_chat": {"id": -100555, "type": "supergroup", "title": "Stadtrat"}}
    await say(app, "AP8: Beschlussvorlage eingereicht", forward_origin=origin)
    assert store.updates()[0].forwarded_from == "Stadtrat"


async def test_forwarded_from_a_channel_names_the_channel(
    app: Application, store: Store  # type: ignore[type-arg]
) -> None:
    origin = {"type": "channel", "date": STAMP, "message_id": 9,
              "chat": {"id": -100777, "type": "channel", "title": "Amtsblatt"}}
    await say(app, "AP8: Artikel erschienen", forward_origin=origin)
    assert store.updates()[0].forwarded_from == "Amtsblatt"


async def test_messages_from_bots_and_without_sender_are_ignored(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    robot = {"id": 4242, "is_bot": True, "first_name": "Otherbot", "username": "otherbot"}
    msg = message("AP3: 60 %")
    await feed(app, message={**msg, "from": robot})
    channel_post = message("AP3: 60 %", chat_id=-100777, chat_type="channel")
    del channel_post["from"]
    await feed(app, channel_post=channel_post)
    assert fake.sent() == []
    assert store.updates() == []


async def test_linked_channel_posts_in_the_group_are_not_reports(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    # A channel linked to the group: Telegram forwards each post as user 777000.
    service = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
    channel = {"id": -1005555555555, "type": "channel", "title": "Bildungsbüro aktuell"}
    await feed(app, message={**message("AP3: Einladungen verschickt, 60 %"), "from": service,
                             "sender_chat": channel, "is_automatic_forward": True})
    assert fake.sent() == []
    assert store.updates() == []


async def test_an_anonymous_group_admin_can_report(
    app: Application, fake: FakeRequest, store: Store  # type: ignore[type-arg]
) -> None:
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                 "username": "GroupAnonymousBot"}
    group = {"id": TEAM, "type": "supergroup", "title": "Koordinierungsteam Bildungskommunen"}
    await feed(app, message={**message("AP3: Einladungen verschickt, 60 %"), "from": anonymous,
                             "sender_chat": group})
    [sent] = fake.sent()
    assert sent["text"].startswith("✅ gespeichert: AP 3")
    [update] = store.updates()
    assert update.author.name == "Admins der Gruppe (anonym)"
    assert update.author.id == str(TEAM)


async def test_plain_chatter_gets_no_answer(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    await say(app, "Guten Morgen zusammen!")
    assert fake.sent() == []


async def test_reply_to_the_bot_counts_as_addressed(
    app: Application, fake: FakeRequest  # type: ignore[type-arg]
) -> None:
    earlier = {"message_id": 1, "date": STAMP, "from": BOT_USER,
               "chat": {"id": TEAM, "type": "supergroup"}, "text": "…"}
    await say(app, "Und was heißt das?", reply_to_message=earlier)
    [sent] = fake.sent()
    assert "nicht verstanden" in sent["text"]


async def test_handler_exception_apologises_and_the_bot_keeps_working(
    app: Application, fake: FakeRequest, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(self: Store) -> list[Any]:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(Store, "marks", broken)
    with caplog.at_level(logging.ERROR, logger="bot.frontends.telegram.app"):
        await say(app, "/status AP3")
    [apology] = fake.sent()
    assert apology["chat_id"] == TEAM
    assert apology["text"] == SORRY
    assert apology["text"].startswith("Entschuldigung")
    errors = [r for r in caplog.records if r.getMessage() == "handler failed"]
    assert errors
    assert errors[0].exc_info is not None
    assert "store exploded" in str(errors[0].exc_info[1])

    monkeypatch.undo()
    await say(app, "/status AP3")
    assert fake.sent()[-1]["text"].startswith("<b>AP 3 · Bildungskonferenzen</b>")


async def test_apology_that_cannot_be_sent_is_logged(
    app: Application, fake: FakeRequest, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(self: Store) -> list[Any]:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(Store, "marks", broken)
    fake.failures["sendMessage"] = (403, "Forbidden: bot was kicked from the supergroup chat")
    with caplog.at_level(logging.WARNING, logger="bot.frontends.telegram.sending"):
        await say(app, "/status AP3")
    assert any("could not send to chat" in r.getMessage() and "kicked" in r.getMessage()
               for r in caplog.records)


async def test_chart_that_cannot_be_drawn_arrives_as_the_text_timeline(
    app: Application, fake: FakeRequest, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    import bot.render.gantt

    def broken(*args: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.render.gantt, "render_gantt", broken)
    await say(app, "/zeitplan")
    [timeline] = fake.sent()
    assert timeline["chat_id"] == TEAM
    assert "<pre>" in timeline["text"]
