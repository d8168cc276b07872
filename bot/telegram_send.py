"""Sending to Telegram: retries with backoff, files with fallbacks, the posts' publisher."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter

from bot.format import split_message
from bot.messages import Attachment

log = logging.getLogger(__name__)
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


async def send_text(bot: Bot, chat_id: int, text: str, **kwargs: Any) -> Message:
    return await with_retry(lambda: bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                                     **kwargs))


async def send_file(bot: Bot, chat_id: int, file: Attachment) -> None:
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
    if file.kind == "photo":
        try:
            await with_retry(lambda: bot.send_photo(
                chat_id, InputFile(file.data, filename=file.filename), caption=file.caption,
                parse_mode=ParseMode.HTML))
            return
        except TelegramError as err:
            log.warning("sendPhoto failed (%s); sending %s as a document", err, file.filename)
    try:
        await with_retry(lambda: bot.send_document(
            chat_id, InputFile(file.data, filename=file.filename), caption=file.caption,
            parse_mode=ParseMode.HTML))
        return
    except TelegramError as err:
        if not file.fallback_text:
            raise
        log.warning("sendDocument failed (%s); sending the text instead", err)
    await send_parts(bot, chat_id, file.fallback_text)


async def send_parts(bot: Bot, chat_id: int, text: str) -> None:
    for part in split_message(text):
        await send_text(bot, chat_id, part)


class TelegramPublisher:
    """Sends automatic posts (the scheduler's Publisher); raises when it gives up."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def publish(self, chat_id: int, message: str) -> None:
        await send_parts(self.bot, chat_id, message)


class SlidingWindow:
    """At most `max_rate` entries in any `period` seconds (an async context manager).

    aiolimiter's leaky bucket lets a full bucket of 20 through and keeps dripping, so a
    burst can put about 40 messages into a group's minute; Telegram allows 20.
    """

    def __init__(self, max_rate: int, period: float) -> None:
        self.max_rate = max_rate
        self.period = period
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:  # first come, first served
            while True:
                while self._times and self._times[0] <= loop.time() - self.period:
                    self._times.popleft()
                if len(self._times) < self.max_rate:
                    break
                await asyncio.sleep(self._times[0] + self.period - loop.time())
            self._times.append(loop.time())

    async def __aexit__(self, *exc: object) -> None:
        return None

    def has_capacity(self, amount: float = 1) -> bool:
        """For AIORateLimiter's clean-up of idle limiters."""
        loop = asyncio.get_running_loop()
        return sum(1 for t in self._times if t > loop.time() - self.period) + amount <= \
            self.max_rate


class GroupRateLimiter(AIORateLimiter):
    """python-telegram-bot's AIORateLimiter with a strict 20-per-minute window per group."""

    def __init__(self, group_max_rate: int = 20, group_period: float = 60,
                 max_retries: int = 3) -> None:
        super().__init__(group_max_rate=group_max_rate, group_time_period=group_period,
                         max_retries=max_retries)
        self._windows: dict[str | int | bool, SlidingWindow] = {}
        self._window_rate, self._window_period = group_max_rate, group_period

    def _get_group_limiter(self, group_id: str | int | bool) -> Any:
        if group_id not in self._windows:
            self._windows[group_id] = SlidingWindow(self._window_rate, self._window_period)
        return self._windows[group_id]
