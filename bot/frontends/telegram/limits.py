"""Telegram's limits on how fast a bot may send: 30 messages a second overall and 20 a
minute per group, kept as strict sliding windows (a python-telegram-bot rate limiter)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from workflows.ids import ChatId


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
