"""Sending automatic posts: `PostRunner.run_due` looks at a given moment, the post log decides.

Something outside (bot/post_scheduler.py, with APScheduler) only says "look now".
Every look recomputes what is due from the plan, the store and the time, so a look
that is dropped or delayed loses nothing: the next look (at the latest a few minutes
later) finds the post and sends it, or logs it as skipped when it is no longer useful.

What the post log promises (see `PostRunner`): a post is logged as being sent, with its
parts, before its first part goes out, and each part is logged once it is delivered; a
post whose log entry cannot be written is not sent. So nothing is sent twice because a
write failed or two checks overlapped. What remains possible: a part that reached the
chat although its answer never came back (a lost answer, or a kill between the answer
and its log entry) is sent once more at the next check, once per such fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from workflows.ids import ChatId
from workflows.plan import Plan
from workflows.posts import Decision, Post, due_posts, first_look_back, utc
from workflows.storage import StoreError
from workflows.store import Store

log = logging.getLogger(__name__)
# A gap since the last check longer than every catch-up window is taken as true only
# after the clock has run on this long without jumping back (see PostRunner).
JUMP_CONFIRM = timedelta(hours=1)
CLOCK_BACK_TOLERANCE = timedelta(minutes=1)  # smaller steps back are not worth a warning
MAX_MOVES = 3  # chat moves followed for one part before giving up until the next check


class ChatMoved(Exception):
    """The chat has a new id (e.g. a Telegram group that became a supergroup): send there."""

    def __init__(self, new_chat_id: ChatId) -> None:
        super().__init__(f"the chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class DeliveryUnknown(Exception):
    """Sending failed after the message may have reached the chat (its answer was lost)."""


class Publisher(Protocol):
    """The front-end's sending of automatic posts.

    `split` cuts a message into the parts the messenger accepts; `publish` sends one part
    and raises when it was not delivered: ChatMoved when the chat has a new id,
    DeliveryUnknown when it may have arrived anyway (then it is not tried again at once).
    """

    def split(self, message: str) -> list[str]: ...

    async def publish(self, chat_id: ChatId, part: str) -> None: ...


Compose = Callable[[Post, bool, datetime], str]  # (post, late, now) -> message
Notify = Callable[[str], Awaitable[None] | None]  # a plain-text notice for the admins


class _StoreFailed(Exception):
    """The post log could not be written: this check stops, nothing more is sent."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


class PostRunner:
    """Finds due posts, sends each once, part by part, and logs what it did.

    One check at a time: a check that finds another one running (e.g. waiting out a 429)
    returns at once without doing anything; the next check picks up what is left.

    Before a post's first part goes out its parts are logged (status "sending"), and each
    delivered part is logged as it goes, so a retry sends only the missing parts. When
    the log cannot be written, nothing is sent: the check stops, the admins get one
    notice (`take_notices`), and a part delivered but not yet logged is remembered here
    and logged first at the next check. A skip entry that cannot be written holds up
    nothing: the post is simply decided again at the next check.

    The clock: posts are decided for the time between the last check and `now`. When
    `now` lies more than the longest catch-up window (`first_look_back`) after the last
    check, the clock may have jumped (a wrong clock for one start would otherwise skip
    every post of the weeks it jumped over, for good): nothing is sent or skipped and
    the last check stays where it was, until checks have seen the clock run on for
    JUMP_CONFIRM from the first one that saw the gap; then the gap is taken as a real
    outage. When `now` lies before the last check, the clock went back: every post up
    to the last check is decided already, so nothing happens until the clock passes
    it, and the last check is never moved back.
    """

    def __init__(self, store: Store, plan: Plan, tz: ZoneInfo,
                 team_chat: Callable[[], ChatId | None],
                 compose: Compose, publisher: Publisher, up_since: datetime) -> None:
        self.store, self.plan, self.tz = store, plan, tz
        self.team_chat = team_chat
        self.compose = compose
        self.publisher = publisher
        self.up_since = up_since
        self._lock = asyncio.Lock()
        self._unlogged: dict[str, tuple[int, ChatId]] = {}  # key -> (parts sent, chat) not logged
        self._jump_seen: datetime | None = None  # the first check that saw the current jump
        self._problems: set[str] = set()
        self._notices: list[str] = []

    def take_notices(self) -> list[str]:
        """German one-line notices for the admins not yet handed out, oldest first.

        Plain text. Each problem (the post log cannot be written, the clock jumped) is
        told once, and once more when it is over.
        """
        notices, self._notices = self._notices, []
        return notices

    def _problem(self, key: str, text: str) -> None:
        if key not in self._problems:
            self._problems.add(key)
            self._notices.append(_one_line(text))

    def _resolved(self, key: str, text: str) -> None:
        if key in self._problems:
            self._problems.discard(key)
            self._notices.append(_one_line(text))

    @property
    def busy(self) -> bool:
        """A check is running."""
        return self._lock.locked()

    async def run_due(self, now: datetime) -> list[Decision]:
        """Send or skip every due post; stop at the first failed send (retried next time)."""
        if self._lock.locked():
            log.info("a check for posts is still running; this one is left out")
            return []
        done: list[Decision] = []
        async with self._lock:
            with contextlib.suppress(_StoreFailed):  # told and logged where it happened
                await self._check(now, done)
        return done

    async def _check(self, now: datetime, done: list[Decision]) -> None:
        self._log_unlogged(now)
        last = self.store.last_post_check()
        since = self._since(last, now)
        if since is None:
            return
        for entry in self.store.unfinished_posts():
            if not await self._resume(entry, now):
                return
        try:
            decisions = due_posts(self.plan, self.store.marks(), self.tz, now,
                                  self.store.posted(), since, self.up_since,
                                  self.store.meeting_work())
        except Exception:
            log.exception("could not work out the due posts; tried again at the next check")
            return
        checked = now  # the last check moves here, or to the first post left undecided
        for d in decisions:
            if d.action == "skip":
                log.info("skipping %s: its time %s passed too long ago", d.post.key,
                         d.post.at.isoformat())
                try:
                    self._write("a skip", functools.partial(
                        self.store.log_post, d.post.key, "skipped", d.post.at, now, late=True))
                except _StoreFailed:
                    # Not sent either way: when the disk is full, the check stops at the
                    # next write and it is decided again; else it blocks nothing.
                    continue
                done.append(d)
                continue
            chat = self.team_chat()
            if chat is None:
                log.warning("no team chat configured: %s is not posted", d.post.key)
                return
            sent = await self._send(d, chat, now)
            if sent is None:
                return
            if sent:
                done.append(d)
            elif utc(d.post.at) < utc(checked):
                checked = d.post.at  # decided again at the next check
        if last is None or utc(checked) > utc(last):
            self._write("the time of the check", functools.partial(
                self.store.set_last_post_check, checked))

    def _since(self, last: datetime | None, now: datetime) -> datetime | None:
        """From when posts are decided in this check; None: not in this check (the clock)."""
        if last is None:
            try:
                return now - first_look_back(self.plan)
            except OverflowError:
                return now
        gap = utc(now) - utc(last)
        if gap < timedelta(0):
            if -gap > CLOCK_BACK_TOLERANCE:
                log.warning("the clock went back: the last check for posts was at %s, now it "
                            "is %s; nothing is posted until the clock passes the last check",
                            last.isoformat(), now.isoformat())
            return None
        window = first_look_back(self.plan)
        if gap <= window:
            self._jump_seen = None
            self._resolved("clock", "✅ Die Uhr läuft wieder stimmig; die automatischen Beiträge "
                                    "gehen normal weiter.")
            return last
        if self._jump_seen is None or utc(now) < utc(self._jump_seen):
            self._jump_seen = now
        if utc(now) - utc(self._jump_seen) < JUMP_CONFIRM:
            log.warning("the clock jumped: the last check for posts was at %s, now it is %s, "
                        "more than the longest catch-up window (%s); no post is sent or skipped "
                        "until the clock has run on for %s", last.isoformat(), now.isoformat(),
                        window, JUMP_CONFIRM)
            self._problem("clock", (
                f"⚠️ Die Uhr ist gesprungen, oder apbot war lange aus: Die letzte Prüfung war "
                f"am {last.astimezone(self.tz):%d.%m.%Y %H:%M}, jetzt ist es "
                f"{now.astimezone(self.tz):%d.%m.%Y %H:%M}. Ich sende und überspringe keine "
                f"automatischen Beiträge, bis die Uhr eine Stunde lang stimmig weiterläuft; "
                f"geht sie falsch, bitte richtig stellen."))
            return None
        log.warning("the clock has run on for %s since the jump: the gap since %s is taken as "
                    "an outage", JUMP_CONFIRM, last.isoformat())
        self._jump_seen = None
        self._resolved("clock", "Die Uhr läuft seit einer Stunde stimmig: Ich entscheide jetzt "
                                "über die Beiträge seit der letzten Prüfung (Veraltetes "
                                "überspringe ich).")
        return last

    def _write(self, what: str, write: Callable[[], Any]) -> None:
        """Write to the post log; on failure tell the admins (once) and stop the check."""
        try:
            write()
        except Exception as err:
            log.error("the post log cannot be written (%s): %s; nothing is sent until it can",
                      what, err)
            reason = str(err) if isinstance(err, StoreError) else (
                f"Speichern fehlgeschlagen ({type(err).__name__}).")
            self._problem("store", (
                f"⚠️ Automatische Beiträge angehalten: {reason} Ich sende nichts, bis wieder "
                f"gespeichert werden kann – danach geht es weiter, ohne etwas doppelt zu "
                f"senden."))
            raise _StoreFailed from err
        self._resolved("store", "✅ Automatische Beiträge laufen wieder: Die Datenbank lässt "
                                "sich wieder schreiben.")

    def _log_unlogged(self, now: datetime) -> None:
        """Log the parts delivered while the post log could not be written."""
        for key, (sent, chat) in list(self._unlogged.items()):
            self._write("parts sent earlier", functools.partial(
                self.store.post_parts_sent, key, sent, chat, now))
            del self._unlogged[key]

    async def _send(self, d: Decision, chat: ChatId, now: datetime) -> bool | None:
        """Log the post's parts, then send them; False: not composed, None: stop this check."""
        try:
            message = self.compose(d.post, d.late, now)
            split = getattr(self.publisher, "split", None)  # a publisher of old sends it whole
            texts = (split(message) if split is not None else None) or [message]
        except Exception:
            log.exception("could not compose %s; it is tried again at the next check",
                          d.post.key)
            return False  # the others may well work
        self._write("the start of a post", functools.partial(
            self.store.begin_post, d.post.key, d.post.at, d.post.useful_until, now, texts,
            d.late, chat))
        if not await self._send_parts(d.post.key, chat, texts, 0, now):
            return None
        log.info("posted %s%s", d.post.key, " (late)" if d.late else "")
        return True

    async def _resume(self, entry: dict[str, Any], now: datetime) -> bool:
        """Send the missing parts of a post begun earlier; False: stop this check."""
        key = str(entry.get("key"))
        try:
            texts = [str(t) for t in entry["texts"]]
            sent = int(entry["parts_sent"])
            useful_until = datetime.fromisoformat(entry["useful_until"])
            chat = str(entry["chat_id"])
        except (KeyError, TypeError, ValueError) as err:
            log.error("the post log entry of %s is damaged (%r); it is given up", key, err)
            self._write("a damaged entry", functools.partial(self.store.give_up_post, key, now))
            return True
        if utc(now) > utc(useful_until):
            log.warning("giving up %s: %d of %d parts were sent and it is no longer useful",
                        key, sent, len(texts))
            self._write("a post given up", functools.partial(
                self.store.give_up_post, key, now))
            return True
        log.info("sending the rest of %s: part %d of %d on", key, sent + 1, len(texts))
        return await self._send_parts(key, self._current_chat(chat), texts, sent, now)

    def _current_chat(self, chat: ChatId) -> ChatId:
        moves = self.store.chat_migrations()
        for _ in range(10):
            if chat not in moves:
                break
            chat = moves[chat]
        return chat

    async def _send_parts(self, key: str, chat: ChatId, texts: list[str], first: int,
                          now: datetime) -> bool:
        for i in range(first, len(texts)):
            try:
                chat = await self._publish(chat, texts[i], now)
            except DeliveryUnknown as err:
                log.warning("part %d of %d of %s may have arrived although sending failed (%s); "
                            "it is sent again at the next check", i + 1, len(texts), key, err)
                return False
            except _StoreFailed:
                raise
            except Exception:
                log.exception("posting %s (part %d of %d) failed; the rest is tried again at the "
                              "next check", key, i + 1, len(texts))
                return False
            self._unlogged[key] = (i + 1, chat)
            self._write("a part sent", functools.partial(
                self.store.post_parts_sent, key, i + 1, chat, now))
            del self._unlogged[key]
        return True

    async def _publish(self, chat: ChatId, text: str, now: datetime) -> ChatId:
        """Send one part, following the chat when it moved; return the chat it went to."""
        for _ in range(MAX_MOVES):
            try:
                await self.publisher.publish(chat, text)
                return chat
            except ChatMoved as moved:
                if moved.new_chat_id == chat:
                    raise
                log.warning("chat %s moved to %s; posting there", chat, moved.new_chat_id)
                self._write("a chat move", functools.partial(
                    self.store.record_migration, chat, moved.new_chat_id, now))
                chat = moved.new_chat_id
        raise RuntimeError(f"the chat keeps moving (now {chat})")
