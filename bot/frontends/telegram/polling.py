"""Fetching Telegram's updates so that none is lost: into the inbox first, then acknowledged.

python-telegram-bot's Updater acknowledges a batch with its next getUpdates while
the application may still be handling it; a kill -9 in between loses the rest of the
batch. This loop fetches a batch, appends it to the inbox (`bot/frontends/inbox.py`), handles
its updates one at a time, in order, and syncs the inbox before the next getUpdates
acknowledges the batch. At start-up, whatever the inbox holds unanswered is handled
first. SIGTERM stops fetching, lets the replies under way finish for a few seconds, and
leaves the rest in the inbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.core import Core
from bot.frontends import event_loop
from bot.frontends.inbox import MAX_ATTEMPTS, Event, Inbox
from bot.frontends.stopping import Stopping, pause, stop_on_signals, unless_stopping
from bot.frontends.telegram.app import (
    SENDER,
    TRACKING,
    TRANSPORT,
    Tracking,
    build_application,
    hand_out_notices,
    on_start,
    stop_calendar,
    stop_posting,
)
from bot.messages import Clock
from bot.render.chart_worker import stop_chart_worker
from workflows.storage import StoreWriteError

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram keeps a long poll open when nothing arrives
SHUTDOWN_GRACE = 3.0  # seconds the replies under way get after SIGTERM
MAX_DELAY = 30.0
READ_TIMEOUT = 10.0  # seconds for an answer beyond the long poll's own time
TOKEN_REJECTED = "Telegram lehnt das Token ab – bitte bei @BotFather prüfen"


class TokenRejected(Exception):
    """Telegram answered 401/404: the token is wrong or was revoked."""

    def __init__(self) -> None:
        super().__init__(TOKEN_REJECTED)


def run_telegram(core: Core, clock: Clock) -> None:
    """Serve until SIGINT/SIGTERM; TokenRejected when Telegram refuses the token."""
    event_loop.run(_serve_until_signal(core, clock))


async def _serve_until_signal(core: Core, clock: Clock) -> None:
    stopping = stop_on_signals()
    app = build_application(core, clock)
    inbox = Inbox(core.ctx.settings.data_dir / "inbox.jsonl")
    try:
        await serve(app, inbox, stopping)
    finally:
        inbox.close()
        stop_chart_worker()


async def serve(app: Application, inbox: Inbox, stopping: asyncio.Event,  # type: ignore[type-arg]
                grace: float = SHUTDOWN_GRACE) -> None:
    """Connect, answer what the inbox still holds, then fetch and answer until `stopping`."""
    connected = False
    try:
        await _connect(app, stopping)
        connected = True
    except Stopping:
        return
    finally:
        if not connected:  # stopped, or the token refused
            await _close_transport(app)
    try:
        await on_start(app)
        for event in inbox.pending():
            if stopping.is_set():
                return
            await handle(app, inbox, event, again=True)
        offset = int(inbox.cursor) if inbox.cursor else None
        while not stopping.is_set():
            try:
                # What the next getUpdates acknowledges must be on disk, unless answered.
                inbox.sync_unanswered()
            except OSError as err:
                log.error("could not sync the inbox (%s)", err)
            try:
                updates = await _fetch(app.bot, offset, stopping)
            except Stopping:
                return
            if not updates:
                continue
            offset = max(u["update_id"] for u in updates) + 1
            await _handle_batch(app, inbox, updates, str(offset), stopping)
    finally:
        await stop_calendar(app)
        await stop_posting(app, grace)
        await app.bot_data[SENDER].close(grace)
        await app.shutdown()
        await _close_transport(app)


async def _close_transport(app: Application) -> None:  # type: ignore[type-arg]
    """Close the connection pools also when getMe never answered: python-telegram-bot
    closes them only for a bot it initialized."""
    for request in app.bot_data[TRANSPORT]:
        await request.shutdown()


def _readable(app: Application, raw: list[dict[str, Any]]) -> dict[str, Update]:  # type: ignore[type-arg]
    """The fetched updates python-telegram-bot can read; the others are logged and left."""
    fetched = {}
    for item in raw:
        try:
            fetched[str(item["update_id"])] = Update.de_json(item, app.bot)
        except Exception:
            log.exception("update %s cannot be read; it is skipped", item["update_id"])
    return fetched


async def _handle_batch(app: Application, inbox: Inbox,  # type: ignore[type-arg]
                        raw: list[dict[str, Any]], cursor: str,
                        stopping: asyncio.Event) -> None:
    fetched = _readable(app, raw)
    try:
        events = inbox.add([(str(u["update_id"]), u) for u in raw
                            if str(u["update_id"]) in fetched], cursor)
    except StoreWriteError as err:
        # The inbox cannot keep them: handle them now and acknowledge only afterwards.
        log.error("%s; this batch is handled without it", err)
        for update in fetched.values():
            await app.process_update(update)
        return
    for event in events:
        if stopping.is_set():
            return  # the rest stays in the inbox for the next start
        await handle(app, inbox, event, fetched[event.key])


async def handle(app: Application, inbox: Inbox, event: Event,  # type: ignore[type-arg]
                 update: Update | None = None, again: bool = False) -> None:
    """One update from the inbox (`update`: as just fetched, else read from the inbox);
    it is marked done once its replies are delivered."""
    if again and event.attempts >= MAX_ATTEMPTS:
        log.error("update %s was begun %d times without being answered; it is given up",
                  event.key, event.attempts)
        inbox.done(event)
        return
    inbox.start(event)
    if update is None:
        update = Update.de_json(event.payload, app.bot)
    app.bot_data[TRACKING] = Tracking(inbox, event)
    try:
        await app.process_update(update)
    finally:
        app.bot_data.pop(TRACKING, None)
    chat = str(update.effective_chat.id) if update.effective_chat is not None else None
    app.bot_data[SENDER].then(chat, lambda: inbox.done(event))
    hand_out_notices(app)


async def _connect(app: Application, stopping: asyncio.Event) -> None:  # type: ignore[type-arg]
    """getMe until it answers: a network outage at boot must not stop the bot for good."""
    delay = 1.0
    while True:
        try:
            await app.initialize()
            break
        except InvalidToken:
            raise TokenRejected from None
        except (NetworkError, RetryAfter) as err:
            log.warning("Telegram is not reachable (%s); trying again in %.0f s", err, delay)
        await pause(delay, stopping)
        delay = min(delay * 2, MAX_DELAY)
    with contextlib.suppress(TelegramError):
        # getUpdates fails while a webhook is set.
        await app.bot.delete_webhook()


async def _fetch(bot: Bot, offset: int | None,
                 stopping: asyncio.Event) -> list[dict[str, Any]]:
    """One getUpdates, acknowledging everything before `offset`; retried on faults.

    The updates come as Telegram sent them (JSON objects): they go to the inbox as they
    are, and one that python-telegram-bot cannot read does not hold up the others.
    """
    delay = 1.0
    data = {"offset": offset, "timeout": POLL_TIMEOUT, "allowed_updates": Update.ALL_TYPES}
    while True:
        try:
            # Bot.get_updates parses the whole batch at once; one unreadable update would
            # fail it for good. Its own request, without the parsing:
            raw = await unless_stopping(bot._post(
                "getUpdates", data, read_timeout=POLL_TIMEOUT + READ_TIMEOUT), stopping)
            return [u for u in raw if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        except InvalidToken:
            raise TokenRejected from None
        except RetryAfter as err:
            wait = err.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.warning("getUpdates: Telegram asks to wait %.0f s", seconds)
            await pause(seconds, stopping)
            continue
        except Conflict as err:
            log.warning("getUpdates refused (%s): is another apbot running with this token?",
                        err)
        except NetworkError as err:  # includes TimedOut and 5xx answers
            log.warning("getUpdates failed (%s); trying again in %.0f s", err, delay)
        except TelegramError as err:
            log.error("getUpdates failed (%s); trying again in %.0f s", err, delay)
        await pause(delay, stopping)
        delay = min(delay * 2, MAX_DELAY)


