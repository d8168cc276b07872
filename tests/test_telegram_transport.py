"""The Telegram front-end's HTTP transport (aiohttp) against real sockets: the local fake
Bot API, a proxy, and servers that fail the ways networks fail."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import cast

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.frontends.telegram.limits import TelegramLimits
from bot.frontends.telegram.sending import ButtonData, Sender
from bot.frontends.telegram.transport import AiohttpRequest, AnswerLost
from tests.fake_bot_api import DEFAULT_TOKEN, FakeBotAPI
from workflows.schedule import DeliveryUnknown

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


@contextlib.asynccontextmanager
async def telegram_bot(base_url: str, read_timeout: float = 5.0,
                       ask_name: bool = True) -> AsyncIterator[Bot]:
    """A python-telegram-bot Bot on the transport (`ask_name`: its getMe at start)."""
    bot = Bot(DEFAULT_TOKEN, base_url=base_url,
              request=AiohttpRequest(read_timeout=read_timeout),
              get_updates_request=AiohttpRequest(connection_pool_size=1))
    try:
        if ask_name:
            await bot.initialize()
        else:
            await bot.request.initialize()
        yield bot
    finally:
        await bot.shutdown()
        await bot.request.shutdown()  # (Bot.shutdown closes it only after a getMe)


@contextlib.asynccontextmanager
async def server(serve: Serve) -> AsyncIterator[str]:
    """A local TCP server; yields its Bot API base URL."""
    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        listening.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listening.wait_closed(), 2)


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """The request line and the body of one HTTP request."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines
                   if line.lower().startswith("content-length:")), 0)
    return lines[0], await reader.readexactly(length)


# -- what goes over the wire ---------------------------------------------------------


async def test_messages_updates_and_files_reach_the_bot_api(api: FakeBotAPI) -> None:
    async with telegram_bot(api.base_url) as bot:
        assert (await bot.get_me()).username == api.bot_user["username"]
        await bot.send_message(42, "Gespeichert: AP 3 – 60 % ✅ & mehr")
        await bot.send_document(42, b"Bericht;2026\n", filename="Bericht Fachkräfte.csv",
                                caption="Ihr Bericht")
        api.push_message("AP3: Einladungen verschickt, 60 %")
        updates = await bot.get_updates(timeout=1)
    assert api.sent_messages(42)[0]["text"] == "Gespeichert: AP 3 – 60 % ✅ & mehr"
    [upload] = api.calls("sendDocument")
    assert upload.params["caption"] == "Ihr Bericht"
    assert [(f.filename, f.data) for f in upload.files.values()] == [
        ("Bericht Fachkräfte.csv", b"Bericht;2026\n")]  # UTF-8 in quotes, as httpx sends
    assert [u.message.text for u in updates if u.message] == [
        "AP3: Einladungen verschickt, 60 %"]


async def test_an_error_answer_becomes_python_telegram_bots_error(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    async with telegram_bot(api.base_url) as bot:
        with pytest.raises(NetworkError) as failed:
            await bot.send_message(42, "Text")
    assert not isinstance(failed.value.__cause__, AnswerLost)


# -- failures: sent or not ------------------------------------------------------------


async def test_a_connection_closed_after_the_request_may_have_delivered_it(
        api: FakeBotAPI) -> None:
    api.drop_connections("sendMessage")
    async with telegram_bot(api.base_url) as bot:
        with pytest.raises(NetworkError) as failed:
            await bot.send_message(42, "Text")
    assert isinstance(failed.value.__cause__, AnswerLost)
    assert len(api.calls("sendMessage")) == 1


async def test_an_answer_that_never_comes_times_out_as_maybe_delivered() -> None:
    seen: list[str] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await read_request(reader))[0])
        await reader.read()  # until the bot gives up and closes
        writer.close()

    async with server(silent) as url, telegram_bot(url, 0.3, ask_name=False) as bot:
        with pytest.raises(TimedOut) as failed:
            await bot.send_message(42, "Text")
    assert isinstance(failed.value.__cause__, AnswerLost)
    assert seen and seen[0].startswith("POST /bot")


async def test_a_refused_connection_was_not_delivered() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with telegram_bot(f"http://127.0.0.1:{port}/bot", ask_name=False) as bot:
        with pytest.raises(NetworkError) as failed:
            await bot.send_message(42, "Text")
    assert not isinstance(failed.value.__cause__, AnswerLost)


async def test_a_post_whose_answer_was_lost_is_delivery_unknown(api: FakeBotAPI) -> None:
    api.drop_connections("sendMessage")
    async with telegram_bot(api.base_url) as bot:
        sender = Sender(bot, TelegramLimits(), cast(ButtonData, None))  # posts need no store
        with pytest.raises(DeliveryUnknown):
            await sender.publish("-100123", "Erinnerung")
        await sender.publish("-100123", "Erinnerung")  # the next check sends it
    assert len(api.calls("sendMessage")) == 2
    assert [m["text"] for m in api.sent_messages(-100123)] == ["Erinnerung"]


# -- an outgoing proxy ----------------------------------------------------------------


async def test_requests_go_through_the_proxy_the_environment_names(
        api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    through: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _ = await read_request(reader)
        through.append(line)
        body = b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"apbot",' \
               b'"username":"proxied_bot"}}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async with server(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/bot"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with telegram_bot(api.base_url) as bot:
            assert bot.username == "proxied_bot"
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with telegram_bot(api.base_url) as bot:
            assert bot.username == api.bot_user["username"]  # straight to the Bot API
    assert through == [f"POST {api.base_url}{DEFAULT_TOKEN}/getMe HTTP/1.1"]
