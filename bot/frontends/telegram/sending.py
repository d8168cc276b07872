"""Everything apbot sends to Telegram goes through here: replies, edits, notices, posts.

`Sender` is the Telegram front-end's one way out. Replies to a chat keep their order in
the `Outbox`: one that can go at once is sent from the handler itself (no extra task,
no extra turn of the event loop); one that would wait — the group's 20 messages a
minute are used up, a first try failed, a file has to be drawn first — goes to a
background task for its chat, and the next update is handled meanwhile. Every Bot API
call is retried on network errors, 5xx and 429 (`with_retry`); a 400 is not. Posts go
part by part for the post runner (`split`, `publish`). Button data longer than
Telegram's 64 bytes travels as a short key kept in the store (`ButtonData`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import timedelta
from functools import partial
from typing import Protocol, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.frontends.telegram.transport import AnswerLost
from bot.messages import Attachment, Clock, Frontend, Reply
from bot.render.format import TELEGRAM_LIMIT, split_message
from workflows.ids import ChatId, MessageId
from workflows.store import Store

log = logging.getLogger(__name__)
# Telegram takes 4096 UTF-16 code units per message, and inline buttons.
TELEGRAM = Frontend("telegram", max_length=TELEGRAM_LIMIT)
T = TypeVar("T")

Attempt = Callable[[], Awaitable[object]]  # one try of one Bot API call
Job = Callable[[], Awaitable[object]]  # a whole delivery, its retries included


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


# ----------------------------------------------------------------------------- buttons


CALLBACK_LIMIT = 64  # bytes of callback_data Telegram takes
_KEY = "#"  # callback_data starting with this is a key; the core's data never does


class ButtonData:
    """The core's button data as Telegram's callback_data, and back.

    Data within 64 bytes travels as it is; longer data (a Matrix-style id in an undo
    button, a long agenda key) as "#" and a hash, with the data kept in the store, so
    that the button still works after a restart.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def pack(self, data: str) -> str:
        if len(data.encode("utf-8")) <= CALLBACK_LIMIT and not data.startswith(_KEY):
            return data
        key = _KEY + hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]
        if self.store.button_data(key) != data:
            self.store.keep_button_data(key, data, self.clock())
        return key

    def unpack(self, callback_data: str) -> str | None:
        """The core's data; None for a key the store does not know."""
        if not callback_data.startswith(_KEY):
            return callback_data
        return self.store.button_data(callback_data)


# ----------------------------------------------------------------------------- the outbox


class Limits(Protocol):
    def ready(self, chat_id: ChatId, amount: int = 1) -> bool: ...


class Outbox:
    """Sends in order per chat; what has to wait, waits in the background."""

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


# ----------------------------------------------------------------------------- the sender


class Sender:
    """The Telegram front-end's one way out: replies, edits, notices, posts and files."""

    READ_TIMEOUT = 30.0  # seconds a post waits for its answer (python-telegram-bot: 5)

    def __init__(self, bot: Bot, limits: Limits, buttons: ButtonData,
                 first_retry_delay: float = 1.0) -> None:
        self.bot = bot
        self.buttons = buttons
        self.outbox = Outbox(limits, first_retry_delay)

    # -- replies

    async def replies(self, chat_id: ChatId, replies: Sequence[Reply],
                      quote: MessageId | None = None, skip: Collection[int] = (),
                      delivered: Callable[[int], None] | None = None) -> None:
        """The core's replies to a message, in order: texts at once if possible, files later.

        `quote`: the message answered (in groups, so that it is clear whom it answers);
        `skip`: parts delivered before a restart; `delivered(i)` is told of each part
        as it goes out.
        """
        quoting = (ReplyParameters(int(quote), allow_sending_without_reply=True)
                   if quote is not None else None)
        parts = [(i, reply) for i, reply in enumerate(replies) if i not in skip]
        if any(reply.attachment is not None for _, reply in parts):
            # A file may take a while to draw: it and whatever follows it wait in the background.
            self.outbox.later(chat_id, [
                _noted(delivered, i, partial(self._deliver, chat_id, reply, quoting))
                for i, reply in parts])
            return
        await self.outbox.send(chat_id, [
            _noted(delivered, i, self._text_attempt(chat_id, reply, quoting))
            for i, reply in parts])

    async def text(self, chat_id: ChatId, reply: Reply) -> None:
        """A further message (a press's announcement), in order with the chat's replies."""
        await self.outbox.send(chat_id, [self._text_attempt(chat_id, reply, None)])

    async def edit(self, chat_id: ChatId, message_id: MessageId, text: str) -> None:
        """Replace the text of our message `message_id` (the one whose button was pressed)."""
        await self.outbox.send(chat_id, [partial(
            self.bot.edit_message_text, text, chat_id=telegram_chat(chat_id),
            message_id=int(message_id), parse_mode=ParseMode.HTML)])

    def notify(self, chat_id: ChatId, text: str) -> None:
        """A message in the background (a notice for an admin, an apology): a failure is
        logged, and nothing waits for it."""
        async def send() -> None:
            try:
                await self._send_text(chat_id, text)
            except TelegramError as err:  # e.g. the admin never opened a chat with the bot
                log.warning("could not send to chat %s: %s", chat_id, err)
        self.outbox.later(chat_id, [send])

    def _markup(self, reply: Reply) -> InlineKeyboardMarkup | None:
        if not reply.buttons:
            return None
        return InlineKeyboardMarkup([[
            InlineKeyboardButton(b.label, callback_data=self.buttons.pack(b.data))
            for b in reply.buttons]])

    def _text_attempt(self, chat_id: ChatId, reply: Reply,
                      quote: ReplyParameters | None) -> Attempt:
        """One try at sending a text reply, with its buttons."""
        return partial(self.bot.send_message, telegram_chat(chat_id), reply.text,
                       parse_mode=ParseMode.HTML, reply_markup=self._markup(reply),
                       reply_parameters=quote)

    async def _deliver(self, chat_id: ChatId, reply: Reply, quote: ReplyParameters | None) -> None:
        """One reply, retries included."""
        if reply.attachment is not None:
            await self._send_file(chat_id, reply.attachment)
        else:
            await with_retry(self._text_attempt(chat_id, reply, quote))

    async def _send_text(self, chat_id: ChatId, text: str) -> None:
        chat = telegram_chat(chat_id)
        await with_retry(lambda: self.bot.send_message(chat, text, parse_mode=ParseMode.HTML))

    async def _send_file(self, chat_id: ChatId, file: Attachment) -> None:
        """A photo, else the same file as a document, else the text fallback."""
        if not file.is_rendered:
            try:
                await asyncio.to_thread(lambda: file.data)  # e.g. the Gantt chart
            except Exception:
                if not file.fallback_text:
                    raise
                log.exception("rendering %s failed; sending the text instead", file.filename)
                await self._send_parts(chat_id, file.fallback_text)
                return
        chat = telegram_chat(chat_id)
        if file.kind == "photo":
            try:
                await with_retry(lambda: self.bot.send_photo(
                    chat, InputFile(file.data, filename=file.filename), caption=file.caption,
                    parse_mode=ParseMode.HTML))
                return
            except TelegramError as err:
                log.warning("sendPhoto failed (%s); sending %s as a document", err, file.filename)
        try:
            await with_retry(lambda: self.bot.send_document(
                chat, InputFile(file.data, filename=file.filename), caption=file.caption,
                parse_mode=ParseMode.HTML))
            return
        except TelegramError as err:
            if not file.fallback_text:
                raise
            log.warning("sendDocument failed (%s); sending the text instead", err)
        await self._send_parts(chat_id, file.fallback_text)

    async def _send_parts(self, chat_id: ChatId, text: str) -> None:
        for part in split_message(text):
            await self._send_text(chat_id, part)

    # -- automatic posts (the post runner's Publisher)

    def split(self, message: str) -> list[str]:
        """The parts Telegram accepts, in order."""
        return split_message(message)

    async def publish(self, chat_id: ChatId, part: str) -> None:
        """One part of a post; raises when it gives up.

        A part whose answer was lost (read timeout, connection dropped once the request was
        out) may have arrived: it is not tried again here but raises DeliveryUnknown, so the
        runner sends it again at its next check, once, not six times in a row; the long read
        timeout keeps that rare. A group that became a supergroup (a 400 answer with
        migrate_to_chat_id) raises ChatMoved with the new id.
        """
        # Imported here, as only posts need them.
        from telegram.error import ChatMigrated

        from workflows.schedule import ChatMoved

        try:
            await with_retry(lambda: self._publish_once(chat_id, part))
        except ChatMigrated as err:
            raise ChatMoved(str(err.new_chat_id)) from err

    async def _publish_once(self, chat_id: ChatId, part: str) -> None:
        from workflows.schedule import DeliveryUnknown

        try:
            await self.bot.send_message(telegram_chat(chat_id), part, parse_mode=ParseMode.HTML,
                                        read_timeout=self.READ_TIMEOUT)
        except (TimedOut, NetworkError) as err:
            if isinstance(err.__cause__, AnswerLost):
                raise DeliveryUnknown(str(err) or type(err).__name__) from err
            raise

    # -- the outbox's state

    def then(self, chat_id: ChatId | None, callback: Callable[[], object]) -> None:
        self.outbox.then(chat_id, callback)

    async def flush(self) -> None:
        await self.outbox.flush()

    async def close(self, grace: float = 0.0) -> None:
        await self.outbox.close(grace)


def _noted(delivered: Callable[[int], None] | None, part: int, send: Attempt) -> Attempt:
    """`send`, and once it succeeded, `delivered(part)`."""
    if delivered is None:
        return send

    async def run() -> object:
        result = await send()
        delivered(part)
        return result
    return run
