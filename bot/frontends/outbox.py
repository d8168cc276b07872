"""Replies on their way to Telegram: at once when possible, else in the background.

Updates are handled one after another, in the order they arrive. A reply that can go
right away is sent from the handler itself: no extra task and no extra turn of the
event loop, so it reaches Telegram before the next long poll is even prepared. A reply
that would wait — the group's 20 messages a minute are used up, a first try failed, a
file has to be drawn first — is handed to a background task for its chat, and the next
update is handled (and recorded) meanwhile. Replies to one chat keep their order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.frontends.telegram.send import with_retry
from workflows.ids import ChatId

log = logging.getLogger(__name__)

Attempt = Callable[[], Awaitable[object]]  # one try of one Bot API call
Job = Callable[[], Awaitable[object]]  # a whole delivery, its retries included


class Limits(Protocol):
    def ready(self, chat_id: ChatId, amount: int = 1) -> bool: ...


class Outbox:
    """Sends replies in order per chat; what has to wait, waits in the background."""

    def __init__(self, limits: Limits, first_retry_delay: float = 1.0) -> None:
        self.limits = limits
        self.first_retry_delay = first_retry_delay
        self._last: dict[ChatId, asyncio.Task[None]] = {}  # per chat: the newest waiting delivery
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, chat_id: ChatId, attempts: Sequence[Attempt]) -> None:
        """Send now if nothing for this chat is waiting and its limits allow; else later.

        Each message is tried once here. After a failed try (network, 5xx, 429) it and
        the ones after it go to the background and are retried there. A rejection (400)
        is raised: the message itself is wrong, and retrying cannot help.
        """
        if not attempts:
            return
        if chat_id in self._last or not self.limits.ready(chat_id, len(attempts)):
            self.later(chat_id, [self._retrying(a) for a in attempts])
            return
        for i, attempt in enumerate(attempts):
            try:
                await attempt()
            except BadRequest:
                raise
            except (RetryAfter, TimedOut, NetworkError) as err:
                log.warning("sending a reply failed (%s); trying again in the background", err)
                self.later(chat_id, [self._retrying(a) for a in attempts[i:]])
                return

    def later(self, chat_id: ChatId, jobs: Sequence[Job]) -> None:
        """Deliver `jobs` in the background, after everything already waiting for the chat."""
        task = asyncio.ensure_future(self._deliver(chat_id, self._last.get(chat_id), jobs))
        self._last[chat_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(chat_id, t))

    async def _deliver(self, chat_id: ChatId, before: asyncio.Task[None] | None,
                       jobs: Sequence[Job]) -> None:
        if before is not None:
            await asyncio.wait({before})  # its own failure is its own: logged there
        for job in jobs:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a reply to chat %s could not be sent", chat_id)

    def then(self, chat_id: ChatId | None, callback: Callable[[], object]) -> None:
        """Call `callback` once everything handed over for the chat so far is delivered
        (or given up); at once when nothing for it is waiting."""
        if chat_id is None or chat_id not in self._last:
            callback()
            return

        async def call() -> None:
            callback()
        self.later(chat_id, [call])

    def _done(self, chat_id: ChatId, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(chat_id) is task:
            del self._last[chat_id]

    def _retrying(self, attempt: Attempt) -> Job:
        async def job() -> object:
            return await with_retry(attempt, first_delay=self.first_retry_delay)
        return job

    @property
    def waiting(self) -> int:
        """Deliveries not finished yet."""
        return len(self._tasks)

    async def flush(self) -> None:
        """Wait until everything handed over so far is delivered (or given up)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 0.0) -> None:
        """Give what is still waiting `grace` seconds, then drop it (on shutdown: the inbox
        keeps every message whose replies did not go out, for the next start)."""
        if self._tasks and grace > 0:
            await asyncio.wait(set(self._tasks), timeout=grace)
        tasks = list(self._tasks)
        if tasks:
            log.warning("shutting down: %d waiting reply deliveries are sent at the next "
                        "start", len(tasks))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

