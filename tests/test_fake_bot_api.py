"""Tests for the fake Telegram Bot API, driven by a real ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from tests.fake_bot_api import BOT_ID, DEFAULT_GROUP_ID, DEFAULT_TOKEN, FakeBotAPI

PRIVATE_CHAT = 1001


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(max_poll_wait=5.0) as fake:
        yield fake


def make_bot(api: FakeBotAPI, token: str = DEFAULT_TOKEN) -> Bot:
    return Bot(token, base_url=api.base_url)


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"cb:{label}")] for label in labels]
    )


# ----------------------------------------------------------------------------- basics


async def test_get_me_and_base_url(api: FakeBotAPI) -> None:
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    async with make_bot(api) as bot:  # initialize() calls getMe
        assert bot.id == BOT_ID
        assert bot.username == "apbot_test_bot"
        me = await bot.get_me()
    assert me.is_bot
    assert me.first_name == "apbot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    calls = api.calls("getMe")
    assert len(calls) == 2
    assert calls[0].params == {}
    assert calls[0].ok


async def test_configurable_identity() -> None:
    with FakeBotAPI(username="other_bot", can_read_all_group_messages=True) as fake:
        async with make_bot(fake) as bot:
            me = await bot.get_me()
    assert me.username == "other_bot"
    assert me.can_read_all_group_messages is True


async def test_wrong_token_is_unauthorized(api: FakeBotAPI) -> None:
    bot = make_bot(api, token="42:WRONG")
    with pytest.raises(InvalidToken):
        async with bot:
            pass
    assert api.calls() == []
    assert api.unauthorized_requests == ["/bot42:WRONG/getMe"]


async def test_unknown_method_is_404_and_recorded(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 5})
    (call,) = api.calls("sendTelepathy")
    assert call.status == 404
    assert call.error == "Not Found: method not found"
    assert call.params == {"chat_id": 5}


# ----------------------------------------------------------------------------- sending


async def test_send_message_is_recorded_with_decoded_params(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        message = await bot.send_message(
            PRIVATE_CHAT, "123", reply_markup=keyboard("Ja"), disable_notification=True
        )
        await bot.send_message(DEFAULT_GROUP_ID, "true")

    # Numeric-looking texts stay strings, structured and typed fields are decoded.
    first, second = api.sent_messages()
    assert first["text"] == "123"
    assert first["chat_id"] == PRIVATE_CHAT
    assert first["disable_notification"] is True
    assert first["reply_markup"] == {
        "inline_keyboard": [[{"text": "Ja", "callback_data": "cb:Ja"}]]
    }
    assert second == {"chat_id": DEFAULT_GROUP_ID, "text": "true"}
    assert api.sent_messages(chat_id=DEFAULT_GROUP_ID) == [second]
    assert api.calls("sendMessage")[0].content_type == "application/x-www-form-urlencoded"

    # PTB could parse the answer into a proper Message.
    assert message.text == "123"
    assert message.chat.type == "private"
    assert message.from_user is not None and message.from_user.id == BOT_ID
    assert message.reply_markup == keyboard("Ja")
    assert abs(message.date.timestamp() - time.time()) < 60

    last = api.last_message(DEFAULT_GROUP_ID)
    assert last["chat"] == {"id": DEFAULT_GROUP_ID, "type": "supergroup", "title": "Test Group"}
    assert last["message_id"] == message.message_id + 1


async def test_html_is_validated_like_telegram(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        ok = await bot.send_message(
            PRIVATE_CHAT, "<b>Meilenstein</b> A &amp; B &lt;3", parse_mode=ParseMode.HTML
        )
        with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "" at byte offset 2'):
            await bot.send_message(PRIVATE_CHAT, "a < b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
            await bot.send_message(PRIVATE_CHAT, "<b>offen", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(PRIVATE_CHAT, " ")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(PRIVATE_CHAT, "x" * 4097)
    assert ok.text == "Meilenstein A & B <3"
    assert len(api.sent_messages()) == 1


async def test_photo_and_document_uploads_are_multipart(api: FakeBotAPI) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"
    pdf = b"%PDF-1.4 fake"
    async with make_bot(api) as bot:
        photo_msg = await bot.send_photo(
            DEFAULT_GROUP_ID, png, filename="chart.png", caption="Fortschritt: 50 %"
        )
        doc_msg = await bot.send_document(
            PRIVATE_CHAT, InputFile(pdf, filename='Bericht "März".pdf'), caption="123"
        )
        by_id = await bot.send_photo(PRIVATE_CHAT, "AgACexisting-file-id")

    photo_call, by_id_call = api.calls("sendPhoto")
    assert photo_call.content_type == "multipart/form-data"
    assert photo_call.params == {"chat_id": DEFAULT_GROUP_ID, "caption": "Fortschritt: 50 %"}
    upload = photo_call.files["photo"]
    assert upload.data == png
    assert upload.filename == "chart.png"
    assert upload.content_type == "image/png"
    assert photo_msg.photo[-1].file_size == len(png)
    assert photo_msg.caption == "Fortschritt: 50 %"

    (doc_call,) = api.calls("sendDocument")
    assert doc_call.params["caption"] == "123"
    document = doc_call.files["document"]
    assert document.data == pdf
    assert document.filename == 'Bericht "März".pdf'
    assert document.content_type == "application/pdf"
    assert doc_msg.document is not None
    assert doc_msg.document.file_name == 'Bericht "März".pdf'

    # A file_id is sent form-encoded as a plain parameter.
    assert by_id_call.files == {}
    assert by_id_call.params["photo"] == "AgACexisting-file-id"
    assert by_id.photo[0].file_id == "AgACexisting-file-id"


async def test_commands_roundtrip(api: FakeBotAPI) -> None:
    commands = [BotCommand("start", "Begrüßung"), BotCommand("status", "Stand der Pakete")]
    async with make_bot(api) as bot:
        assert await bot.set_my_commands(commands)
        assert tuple(await bot.get_my_commands()) == tuple(commands)
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Status", "Großbuchstaben")])
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
    (first, _) = [c for c in api.calls("setMyCommands")]
    assert first.params["commands"] == [c.to_dict() for c in commands]


async def test_chat_and_member_lookup(api: FakeBotAPI) -> None:
    api.push_message("hallo", user_id=77, first_name="Ben", chat_title="Koordination")
    async with make_bot(api) as bot:
        chat = await bot.get_chat(DEFAULT_GROUP_ID)
        member = await bot.get_chat_member(DEFAULT_GROUP_ID, 77)
        api.set_admin(77)
        admin = await bot.get_chat_member(DEFAULT_GROUP_ID, 77)
        assert await bot.send_chat_action(DEFAULT_GROUP_ID, "typing")
    assert chat.type == "supergroup"
    assert chat.title == "Koordination"
    assert member.status == "member"
    assert member.user.first_name == "Ben"
    assert admin.status == "administrator"


# ----------------------------------------------------------------------------- updates


async def test_get_updates_delivers_pushed_updates_and_honours_offset(api: FakeBotAPI) -> None:
    pushed = api.push_message("/start@apbot_test_bot los", username="anna_k")
    api.push_message("Foto", photo=True, chat_type="private")
    async with make_bot(api) as bot:
        updates = await bot.get_updates(timeout=1)
        api.wait_until_delivered(timeout=1)
        assert [u.update_id for u in updates] == [
            pushed["update_id"],
            pushed["update_id"] + 1,
        ]
        command, photo = (u.message for u in updates)
        assert command is not None and photo is not None
        assert command.text == "/start@apbot_test_bot los"
        assert command.chat.type == "supergroup"
        assert command.chat.title == "Test Group"
        assert command.from_user is not None and command.from_user.username == "anna_k"
        (entity,) = command.entities
        assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 21)
        assert photo.chat.id == 1001 and photo.chat.type == "private"
        assert photo.caption == "Foto" and photo.text is None and photo.photo

        # Unconfirmed updates are delivered again; a higher offset confirms them.
        again = await bot.get_updates(timeout=0)
        assert len(again) == 2
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
        assert api.pending_updates() == []

        edited = api.push_message("korrigiert", message_id=command.message_id, edited=True)
        (update,) = await bot.get_updates(offset=edited["update_id"], timeout=1)
    assert update.edited_message is not None
    assert update.edited_message.edit_date is not None
    assert update.edited_message.message_id == command.message_id


async def test_long_poll_wakes_up_when_an_update_arrives(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.to_thread(api.wait_until_polling, 5)
        api.push_message("jetzt")
        updates = await poll
    assert [u.message.text for u in updates if u.message] == ["jetzt"]
    assert time.monotonic() - started < 4  # woke up before max_poll_wait (5 s)


async def test_delivery_times_and_replies_can_be_matched(api: FakeBotAPI) -> None:
    group = api.push_message("/status AP3")
    private = api.push_message("/status AP4", chat_type="private", user_id=2002)
    with pytest.raises(LookupError):
        api.delivered_at(group["update_id"])
    async with make_bot(api) as bot:
        updates = await bot.get_updates(timeout=1)
        handed_out = api.delivered_at(group["update_id"])
        assert api.delivered_at(private["update_id"]) == handed_out
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)  # confirm
        assert api.delivered_at(group["update_id"]) == handed_out  # the first hand-out
        await bot.send_message(DEFAULT_GROUP_ID, "ohne Zitat")
        await updates[0].message.reply_text("Antwort", do_quote=True)
        await bot.send_message(2002, "privat")
    group_reply = api.wait_for_reply(group, timeout=1)
    assert group_reply.params["text"] == "Antwort"
    assert group_reply.quoted_message_id == group["message"]["message_id"]
    assert group_reply.received > handed_out
    assert group_reply.received <= time.perf_counter()
    private_reply = api.wait_for_reply(private, timeout=1)
    assert private_reply.params["text"] == "privat"
    assert private_reply.quoted_message_id is None
    assert not private_reply.answers(group)
    late = api.push_message("nie beantwortet")
    with pytest.raises(TimeoutError, match="not delivered"):
        api.wait_for_reply(late, timeout=0.1)


async def test_long_poll_is_capped() -> None:
    with FakeBotAPI(max_poll_wait=0.2) as fake:
        async with make_bot(fake) as bot:
            started = time.monotonic()
            assert await bot.get_updates(timeout=30) == ()
            assert time.monotonic() - started < 3


async def test_second_poller_terminates_the_first_with_conflict(api: FakeBotAPI) -> None:
    async with make_bot(api) as first, make_bot(api) as second:
        poll = asyncio.create_task(first.get_updates(timeout=30))
        await asyncio.to_thread(api.wait_until_polling, 5)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict):
            await poll


async def test_allowed_updates_filter_discards_other_types(api: FakeBotAPI) -> None:
    message = api.push_message("Frage")["message"]
    api.push_callback_query("cb:x", message)
    api.push_message("zweite")
    async with make_bot(api) as bot:
        updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["Frage", "zweite"]
    assert len(updates) == 2


async def test_button_click_edit_and_answer(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        sent = await bot.send_message(PRIVATE_CHAT, "Paket 3?", reply_markup=keyboard("Erledigt"))
        api.click_button(api.last_message(PRIVATE_CHAT), "Erledigt", user_id=PRIVATE_CHAT)
        (update,) = await bot.get_updates(timeout=1)
        query = update.callback_query
        assert query is not None and query.data == "cb:Erledigt"
        assert query.message is not None and query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Gespeichert")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("not-a-query")

        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "Paket 3?", PRIVATE_CHAT, sent.message_id, reply_markup=keyboard("Erledigt")
            )
        edited = await bot.edit_message_text("Paket 3 ✓", PRIVATE_CHAT, sent.message_id)
        assert isinstance(edited, type(sent))
        assert edited.text == "Paket 3 ✓" and edited.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", PRIVATE_CHAT, 999_999)
        await bot.edit_message_reply_markup(
            PRIVATE_CHAT, sent.message_id, reply_markup=keyboard("Neu")
        )
    assert api.last_message(PRIVATE_CHAT)["text"] == "Paket 3 ✓"
    with pytest.raises(LookupError, match="Neu"):
        api.click_button(sent.message_id, "Erledigt")


# ----------------------------------------------------------------------------- faults


async def test_scripted_429_then_success(api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # int retry_after access is deprecated
    api.fail_next("sendMessage", retry_after=3)
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(PRIVATE_CHAT, "eins")
        await bot.send_message(PRIVATE_CHAT, "eins")
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    assert [c.status for c in api.calls("sendMessage")] == [429, 200]
    assert api.calls("sendMessage")[0].error == "Too Many Requests: retry after 3"
    assert len(api.sent_messages()) == 1


async def test_gateway_error_and_dropped_connection(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", error_code=502)
    api.drop_connections("getChat")
    async with make_bot(api) as bot:
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(PRIVATE_CHAT, "a")
        with pytest.raises(NetworkError):
            await bot.get_chat(PRIVATE_CHAT)
        await bot.send_message(PRIVATE_CHAT, "b")
        await bot.get_chat(PRIVATE_CHAT)
    assert [c.status for c in api.calls("getChat")] == [0, 200]
    assert api.calls("getChat")[0].error == "connection dropped"


async def test_fault_for_one_chat_only(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", 403, chat_id=PRIVATE_CHAT)
    async with make_bot(api) as bot:
        await bot.send_message(DEFAULT_GROUP_ID, "Gruppe")
        with pytest.raises(Exception, match="bot was blocked by the user"):
            await bot.send_message(PRIVATE_CHAT, "privat")


async def test_reject_until_accept(api: FakeBotAPI) -> None:
    api.reject("setMyCommands", description="Bad Request: not today")
    async with make_bot(api) as bot:
        for _ in range(2):
            with pytest.raises(BadRequest, match=r"(?i)not today"):
                await bot.set_my_commands([BotCommand("start", "Start")])
        api.accept("setMyCommands")
        assert await bot.set_my_commands([BotCommand("start", "Start")])
    assert [c.status for c in api.calls("setMyCommands")] == [400, 400, 200]


# ----------------------------------------------------------------------------- waiting


async def test_wait_for_blocks_until_call_arrives(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        waiter = asyncio.create_task(asyncio.to_thread(api.wait_for, "sendMessage", 2))
        await bot.send_message(PRIVATE_CHAT, "eins")
        await bot.send_message(PRIVATE_CHAT, "zwei")
        calls = await waiter
    assert [c.params["text"] for c in calls] == ["eins", "zwei"]
    params = api.wait_for_text("zwei", chat_id=PRIVATE_CHAT, timeout=0.1)
    assert params["text"] == "zwei"


async def test_wait_for_timeout_describes_what_was_received(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        await bot.send_message(PRIVATE_CHAT, "Status: alles gut")
    with pytest.raises(TimeoutError) as info:
        api.wait_for("editMessageText", timeout=0.1)
    text = str(info.value)
    assert "editMessageText" in text
    assert "sendMessage x1" in text
    assert "Status: alles gut" in text
    with pytest.raises(TimeoutError, match="predicate"):
        api.wait_for("sendMessage", timeout=0.1, predicate=lambda c: "nope" in c.params["text"])


# ----------------------------------------------------------------------------- wire level


def test_raw_encodings_and_errors(api: FakeBotAPI) -> None:
    url = f"{api.base_url}{DEFAULT_TOKEN}"
    with httpx.Client() as client:
        form = client.post(f"{url}/sendMessage", data={"chat_id": "7", "text": "true"})
        as_json = client.post(
            f"{url}/sendMessage",
            json={"chat_id": "-100123", "text": "42", "reply_markup": {"inline_keyboard": []}},
        )
        query = client.get(f"{url}/sendMessage", params={"chat_id": "7", "text": "q"})
        chunked = client.post(
            f"{url}/sendMessage",
            content=iter([b"chat_id=7&", b"text=st%C3%BCckweise"]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        bad_markup = client.post(
            f"{url}/sendMessage", data={"chat_id": "7", "text": "x", "reply_markup": "{nope"}
        )
        wrong = client.post(f"{api.base_url}1:nope/getMe")

    assert form.status_code == 200 and form.json()["ok"] is True
    assert as_json.status_code == 200
    assert query.status_code == 200
    assert chunked.status_code == 200
    texts = [(p["chat_id"], p["text"]) for p in api.sent_messages()]
    assert texts == [(7, "true"), (-100123, "42"), (7, "q"), (7, "stückweise")]
    assert bad_markup.status_code == 400
    assert "reply keyboard markup" in bad_markup.json()["description"]
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_close_is_fast_while_a_poll_is_waiting() -> None:
    fake = FakeBotAPI(max_poll_wait=60)
    try:
        async with make_bot(fake) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=50))
            await asyncio.to_thread(fake.wait_until_polling, 5)
            started = time.monotonic()
            await asyncio.to_thread(fake.close)
            assert time.monotonic() - started < 2
            assert await poll == ()
    finally:
        fake.close()
    assert fake.closed
