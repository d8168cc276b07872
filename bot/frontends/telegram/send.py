"""Sending to Telegram: retries with backoff, files with fallbacks, the posts' publisher,
and Telegram's limits on how fast a bot may send."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.messages import Attachment, Frontend
from bot.render.format import TELEGRAM_LIMIT, split_message
from workflows.ids import ChatId

log = logging.getLogger(__name__)
# Telegram takes 4096 UTF-16 code units per message, and inline buttons.
TELEGRAM = Frontend("telegram", max_length=TELEGRAM_LIMIT)
T = TypeVar("T")


async def with_retry(send: Callable[[], Awaitable[T]], attempts: int = 6,
                     first_delay: float = 1.0) -> T:
    """Try `send` again after network errors, 5xx answers and 429s, waiting longer each time.

    A rejection (400: the message itself is wrong) is not retried. A retry after a lost
    answer can in rare cases deliver a message twice; losing a confirmation or a post
    would be worse.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except BadRequest:
            raise
        except RetryAfter as err:
            if attempt == attempts:
                raise
            wait = err.retry_after
            pause = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        except (TimedOut, NetworkError) as err:  # includes 5xx answers and dropped connections
            if attempt == attempts:
                raise
            log.warning("sending failed (%s), trying again in %.0f s", err, delay)
            pause, delay = delay, min(delay * 2, 60)
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


def telegram_chat(chat_id: ChatId) -> int | str:
    """The core's chat id as the Bot API takes it: a number, or an @channel name."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


async def send_text(bot: Bot, chat_id: ChatId, text: str, **kwargs: Any) -> Message:
    chat = telegram_chat(chat_id)
    return await with_retry(lambda: bot.send_message(chat, text, parse_mode=ParseMode.HTML,
                                                     **kwargs))


async def send_file(bot: Bot, chat_id: ChatId, file: Attachment) -> None:
    """A photo, else the same file as a document, else the text fallback."""
    if not file.is_rendered:
        try:
            await asyncio.to_thread(lambda: file.data)  # e.g. the Gantt chart: ~0.6 s of drawing
        except Exception:
            if not file.fallback_text:
                raise
            log.exception("rendering %s failed; sending the text instead", file.filename)
            await send_parts(bot, chat_id, file.fallback_text)
            return
    chat = telegram_chat(chat_id)
    if file.kind == "photo":
        try:
            await with_retry(lambda: bot.send_photo(
                chat, InputFile(file.data, filename=file.filename), caption=file.caption,
                parse_mode=ParseMode.HTML))
            return
        except TelegramError as err:
            log.warning("sendPhoto failed (%s); sending %s as a document", err, file.filename)
    try:
        await with_retry(lambda: bot.send_document(
            chat, InputFile(file.data, filename=file.filename), caption=file.caption,
            parse_mode=ParseMode.HTML))
        return
    except TelegramError as err:
        if not file.fallback_text:
            raise
        log.warning("sendDocument failed (%s); sending the text instead", err)
    await send_parts(bot, chat_id, file.fallback_text)


async def send_parts(bot: Bot, chat_id: ChatId, text: str) -> None:
    for part in split_message(text):
        await send_text(bot, chat_id, part)


class TelegramPublisher:
    """Sends automatic posts one part at a time (the scheduler's Publisher); raises when it
    gives up.

    A part whose answer was lost (read timeout, connection dropped once the request was
    out) may have arrived: it is not tried again here but raises DeliveryUnknown, so the
    runner sends it again at its next check, once, not six times in a row; the long read
    timeout keeps that rare. A group that became a supergroup (a 400 answer with
    migrate_to_chat_id) raises ChatMoved with the new id.
    """

    READ_TIMEOUT = 30.0  # seconds: python-telegram-bot's default of 5 gives up on slow answers

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def split(self, message: str) -> list[str]:
        """The parts Telegram accepts, in order."""
        return split_message(message)

    async def publish(self, chat_id: ChatId, part: str) -> None:
        # Imported here, as this class is the only part of the module that needs them.
        from telegram.error import ChatMigrated

        from workflows.schedule import ChatMoved

        try:
            await with_retry(lambda: self._send_once(chat_id, part))
        except ChatMigrated as err:
            raise ChatMoved(str(err.new_chat_id)) from err

    async def _send_once(self, chat_id: ChatId, part: str) -> None:
        import httpx

        from workflows.schedule import DeliveryUnknown

        maybe_delivered = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
                           httpx.WriteError, httpx.RemoteProtocolError)
        try:
            await self.bot.send_message(telegram_chat(chat_id), part, parse_mode=ParseMode.HTML,
                                        read_timeout=self.READ_TIMEOUT)
        except (TimedOut, NetworkError) as err:
            if isinstance(err.__cause__, maybe_delivered):
                raise DeliveryUnknown(str(err) or type(err).__name__) from err
            raise


class SlidingWindow:
    """At most `max_rate` entries in any `period` seconds; first come, first served.

    A strict window, not a leaky bucket: a leaky bucket (python-telegram-bot's
    AIORateLimiter) lets a full bucket of 20 through and keeps dripping, so a burst can
    put about 40 messages into a group's minute; Telegram allows 20.
    """

    def __init__(self, max_rate: int, period: float) -> None:
        self.max_rate = max_rate
        self.period = period
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()

    def ready(self, amount: int = 1) -> bool:
        """Would `amount` entries go through now, without waiting and without overtaking?"""
        if self._lock.locked():
            return False
        self._expire(asyncio.get_running_loop().time())
        return len(self._times) + amount <= self.max_rate

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            while True:
                self._expire(loop.time())
                if len(self._times) < self.max_rate:
                    break
                await asyncio.sleep(self._times[0] + self.period - loop.time())
            self._times.append(loop.time())

    @property
    def idle(self) -> bool:
        """Nothing in the window and nobody waiting: the window can be forgotten."""
        if self._lock.locked():
            return False
        self._expire(asyncio.get_running_loop().time())
        return not self._times


class TelegramLimits(BaseRateLimiter[int]):
    """Telegram's limits for bots: 30 messages a second overall and 20 a minute per group.

    Requests to a chat wait for their windows; other requests (getUpdates, answering a
    button) go straight through. Nothing is retried here: `with_retry` does that, and the
    `Outbox` decides whether a reply may wait at all.
    """

    GROUPS_KEPT = 512  # idle group windows are forgotten beyond this many

    def __init__(self, overall_rate: int = 30, overall_period: float = 1.0,
                 group_rate: int = 20, group_period: float = 60.0) -> None:
        self._overall = SlidingWindow(overall_rate, overall_period)
        self._group_rate, self._group_period = group_rate, group_period
        self._groups: dict[int | str, SlidingWindow] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _windows(self, chat_id: object) -> list[SlidingWindow]:
        if chat_id is None:
            return []
        group = _group_key(chat_id)
        if group is None:
            return [self._overall]
        window = self._groups.get(group)
        if window is None:
            if len(self._groups) >= self.GROUPS_KEPT:
                self._groups = {k: w for k, w in self._groups.items() if not w.idle}
            window = self._groups[group] = SlidingWindow(self._group_rate, self._group_period)
        # The group's minute first: a message waiting for it holds no slot of the second.
        return [window, self._overall]

    def ready(self, chat_id: ChatId, amount: int = 1) -> bool:
        """Would `amount` messages to `chat_id` go out now without waiting?"""
        return all(w.ready(amount) for w in self._windows(chat_id))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        for window in self._windows(data.get("chat_id")):
            await window.acquire()
        return await callback(*args, **kwargs)


def _group_key(chat_id: object) -> int | str | None:
    """Groups and channels have negative ids or @names; private chats positive ids."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None
