"""The Matrix front-end: log in, sync, hand room events to the core, send what it says.

matrix-nio's AsyncClient (asyncio, aiohttp; end-to-end encryption only with its optional
`e2e` extra, which needs libolm, so not here) does the HTTP. The sync loop works like
the Telegram one (bot/frontends/telegram/polling.py): each sync's events go into the inbox
(bot/frontends/inbox.py) together with the sync token after them, before any is handled; each is
marked as its replies go out. The token is the inbox's cursor, so a restart continues
where the last sync ended (no replays: events marked done are not handled again), and
what was fetched but not answered is handled first (nothing lost). The very first start
skips the rooms' history: apbot begins with what is written from then on.

Invites: the team room, the further rooms and a direct chat from an admin or a member of
the team room are joined; every other invite is declined, with one line in the log. In
an encrypted room apbot cannot read: it says so in one German line and leaves.

Room upgrades: when a room apbot serves gets an m.room.tombstone, the chat continues in
the replacement room (the store's chat moves, as for Telegram's group → supergroup):
apbot records the move, joins the new room (or accepts the invitation to it) and posts
there from then on. This happens before the sync's token is stored, so a crash in
between sees the tombstone again; at each start the rooms' state shows it once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    ErrorResponse,
    LoginResponse,
    MessageDirection,
    RoomGetEventResponse,
    RoomMessagesResponse,
    SyncResponse,
    WhoamiResponse,
)

from bot.access import is_admin, served_chats, team_chat
from bot.core import SORRY, Core, is_workbook
from bot.frontends import event_loop
from bot.frontends.calendar_server import CalendarServer, start_calendar_server
from bot.frontends.inbox import MAX_ATTEMPTS, Event, Inbox
from bot.frontends.matrix.events import (
    Message,
    button_data,
    localpart,
    read_message,
    read_reaction,
    read_tombstone,
    replied_text,
)
from bot.frontends.matrix.sending import MATRIX, MatrixPublisher, MatrixSendError, Sender
from bot.frontends.proxy import proxy_for
from bot.frontends.stopping import Stopping, pause, stop_on_signals, unless_stopping
from bot.logs import add_secret
from bot.messages import ButtonPress, Clock, Context, Incoming, Reply, SentFile
from bot.post_scheduler import PostScheduler
from bot.posts import compose
from bot.render.chart_worker import stop_chart_worker
from bot.render.format import esc
from workflows.ids import ChatId, MessageId
from workflows.schedule import PostRunner
from workflows.storage import StoreWriteError

log = logging.getLogger(__name__)
T = TypeVar("T")

SYNC_TIMEOUT_MS = 30_000  # how long one sync waits on the homeserver when nothing happens
SHUTDOWN_GRACE = 3.0
MAX_DELAY = 30.0
TIMELINE_LIMIT = 100  # events per room and sync; a longer gap is fetched with /messages
BACKFILL_MAX = 2_000  # events per room fetched after an outage, at most
MAX_UPLOAD = 5 * 1024 * 1024  # a plan's workbook has some kilobytes
ADMIN_POWER = 50  # "Moderator" in Element: counts as admin when APBOT_ADMIN_IDS is empty
ENCRYPTED = ("In verschlüsselten Räumen kann ich nicht mitlesen – bitte laden Sie mich in einen "
             "unverschlüsselten Raum ein (oder nutzen Sie einen Proxy wie pantalaimon).")
DOWNLOAD_FAILED = "Die Datei ließ sich nicht vom Server laden – bitte noch einmal senden."
TOO_LARGE = ("Die Datei ist größer als 5 MB – eine Arbeitsmappe des Plans ist viel kleiner. "
             "Ich habe nichts geändert.")
STATE_FILE = "matrix.json"  # the device id (no secret): a password login keeps its device


class LoginRejected(Exception):
    """The homeserver refused the access token or the password."""


def run_matrix(core: Core, clock: Clock) -> None:
    """Serve until SIGINT/SIGTERM; LoginRejected when the homeserver refuses us."""
    event_loop.run(_serve_until_signal(core, clock))


async def _serve_until_signal(core: Core, clock: Clock) -> None:
    stopping = stop_on_signals()
    inbox = Inbox(core.ctx.settings.data_dir / "matrix-inbox.jsonl")
    front = MatrixFrontend(core, clock, inbox, stopping)
    try:
        await front.serve()
    finally:
        stop_chart_worker()  # started by bot/__main__.py
        inbox.close()
        await front.client.close()


class MatrixFrontend:
    """One logged-in client serving the core."""

    def __init__(self, core: Core, clock: Clock, inbox: Inbox, stopping: asyncio.Event) -> None:
        settings = core.ctx.settings
        assert settings.matrix_homeserver and settings.matrix_user
        self.core = core.with_frontend(MATRIX)
        self.clock = clock
        self.inbox = inbox
        self.stopping = stopping
        # nio gives up on nothing by itself; rate limits are ours (sending.with_retry).
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=None,
                                   request_timeout=60, store_sync_tokens=False)
        self.client = AsyncClient(settings.matrix_homeserver, settings.matrix_user,
                                  config=config,
                                  proxy=proxy_for(settings.matrix_homeserver, os.environ))
        self.me = settings.matrix_user
        self.sender = Sender(self.client)
        self.scheduler: PostScheduler | None = None
        self.calendar: CalendarServer | None = None
        self._configured_admins = settings.admin_ids
        self._told_encrypted: set[str] = set()
        # Room creators (m.room.create): from room version 12 on they outrank every power
        # level and are not listed in the power levels.
        self._creators: dict[str, tuple[str, frozenset[str]]] = {}
        # Each room's power levels as its newest m.room.power_levels event says (nio merges
        # the users of a new event into the old ones, so a demotion would go unseen).
        self._levels: dict[str, dict[str, int]] = {}

    # -- start and the sync loop --------------------------------------------------------

    async def serve(self) -> None:
        try:
            await self._unless_stopping(self.login())
        except Stopping:
            return
        try:
            first = self.inbox.cursor is None
            # The rooms as they are now (members, power levels, encryption), without their
            # history; what happened since the stored token comes with the next sync.
            sync = await self._sync(None, timeout=0, timeline_limit=1)
            if sync is None:
                return
            for room_id, info in sync.rooms.join.items():
                self._note_creators(room_id, [e.source for e in info.state]
                                    + [e.source for e in info.timeline.events])
            self._update_admins()
            await self._invites(sync)
            if first:
                # The rooms' history is not the team's talk to us: start from now.
                self.inbox.add([], sync.next_batch)
            else:
                for event in self.inbox.pending():
                    if self.stopping.is_set():
                        return
                    await self.handle(event, again=True)
            self._start_posting()
            await self._start_calendar()
            log.info("apbot is running as %s on %s", self.me, self.client.homeserver)
            if self.core.ctx.settings.team_chat_id is None:
                log.warning("APBOT_TEAM_CHAT_ID is not set: apbot joins no room and posts "
                            "nothing")
            while not self.stopping.is_set():
                since = self.inbox.cursor
                try:
                    self.inbox.sync()
                except OSError as err:
                    log.error("could not sync the inbox (%s)", err)
                sync = await self._sync(since, timeout=SYNC_TIMEOUT_MS)
                if sync is None:
                    return
                await self._invites(sync)
                await self._take(sync, since)
                # The store's notices (a failed backup) also when no message came.
                await self._hand_out_notices()
        finally:
            if self.scheduler is not None:
                await self.scheduler.stop(SHUTDOWN_GRACE)
            if self.calendar is not None:
                await self.calendar.stop()

    async def login(self) -> None:
        """With the access token (preferred), else with the password; raises LoginRejected."""
        settings = self.core.ctx.settings
        if settings.matrix_access_token:
            self.client.access_token = settings.matrix_access_token
            answer = await self.client.whoami()
            if not isinstance(answer, WhoamiResponse):
                raise LoginRejected(f"Der Server {settings.matrix_homeserver} lehnt das "
                                    f"Zugangstoken ab ({answer.status_code}).")
            if answer.user_id != self.me:
                raise LoginRejected(f"Das Zugangstoken gehört {answer.user_id}, nicht "
                                    f"APBOT_MATRIX_USER={self.me}.")
            self.client.user_id = answer.user_id
            self.client.device_id = answer.device_id or ""
            return
        state_path = settings.data_dir / STATE_FILE
        state = self._read_state()
        if state.get("device_id"):
            self.client.device_id = str(state["device_id"])
        answer = await self.client.login(settings.matrix_password, device_name="apbot")
        if not isinstance(answer, LoginResponse):
            raise LoginRejected(f"Der Server {settings.matrix_homeserver} lehnt die Anmeldung "
                                f"als {self.me} ab ({answer.status_code}).")
        add_secret(answer.access_token)  # never in a log line
        if answer.device_id != state.get("device_id"):
            with contextlib.suppress(OSError):
                state_path.write_text(json.dumps({"device_id": answer.device_id}))

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads((self.core.ctx.settings.data_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    async def _sync(self, since: str | None, timeout: int,
                    timeline_limit: int = TIMELINE_LIMIT) -> SyncResponse | None:
        """One sync, retried with a growing pause on errors; None when stopping."""
        sync_filter = {"room": {"timeline": {"limit": timeline_limit}},
                       "presence": {"not_types": ["*"]}}
        delay = 1.0
        while True:
            try:
                answer = await self._unless_stopping(self.client.sync(
                    timeout=timeout, sync_filter=sync_filter, since=since))
            except Stopping:
                return None
            if isinstance(answer, SyncResponse):
                return answer
            if isinstance(answer, ErrorResponse) and answer.status_code == "M_UNKNOWN_TOKEN":
                raise LoginRejected("Der Server nimmt das Zugangstoken nicht mehr an "
                                    "(M_UNKNOWN_TOKEN).")
            wait = delay
            if isinstance(answer, ErrorResponse) and answer.status_code == "M_LIMIT_EXCEEDED":
                wait = (answer.retry_after_ms or 1000) / 1000
            log.warning("sync failed (%s); trying again in %.0f s", answer, wait)
            try:
                await self._pause(wait)
            except Stopping:
                return None
            delay = min(delay * 2, MAX_DELAY)

    async def _take(self, sync: SyncResponse, since: str | None) -> None:
        """The sync's room events: into the inbox with the token after them, then handled."""
        await self._encrypted_rooms(sync)
        batch: list[tuple[str, dict[str, Any]]] = []
        for room_id, info in sync.rooms.join.items():
            events = [e.source for e in info.timeline.events]
            self._note_creators(room_id, [e.source for e in info.state] + events)
            if info.timeline.limited and since and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch,
                                              since) + events
            # When it came, on the bot's clock: with the event's age, when it was written,
            # also when it is handled only after a restart.
            received = self.clock().isoformat()
            for source in _after_my_join(events, self.me):
                if isinstance(source.get("event_id"), str):
                    batch.append((source["event_id"], {"room_id": room_id, "event": source,
                                                       "received": received}))
        self._update_admins()  # a change of power levels counts for this sync's messages
        try:
            fresh = self.inbox.add(batch, sync.next_batch)
        except StoreWriteError as err:
            log.error("%s; this sync is handled without it", err)
            for key, payload in batch:
                await self.handle(Event(key, payload))
            return
        for event in fresh:
            if self.stopping.is_set():
                return  # the rest stays in the inbox for the next start
            await self.handle(event)

    async def _backfill(self, room_id: str, prev_batch: str, since: str) -> list[dict[str, Any]]:
        """The events between the last sync and a limited timeline (after an outage)."""
        older: list[dict[str, Any]] = []
        start = prev_batch
        while len(older) < BACKFILL_MAX:
            answer = await self.client.room_messages(room_id, start=start, end=since,
                                                     direction=MessageDirection.back,
                                                     limit=TIMELINE_LIMIT)
            if not isinstance(answer, RoomMessagesResponse) or not answer.chunk:
                break
            older += [e.source for e in answer.chunk]
            if not answer.end or answer.end == start:
                break
            start = answer.end
        log.info("fetched %d earlier events of %s after a gap", len(older), room_id)
        return list(reversed(older))

    # -- invites ------------------------------------------------------------------------

    async def _invites(self, sync: SyncResponse) -> None:
        # Upgrades first: the invitation to a served room's replacement may be in this sync.
        await self._follow_upgrades(sync)
        for room_id, info in sync.rooms.invite.items():
            # nio keeps of the stripped state only members (with content), names, aliases.
            inviter, direct = "", False
            for event in info.invite_state:
                if getattr(event, "state_key", None) == self.me:
                    inviter = str(getattr(event, "sender", ""))
                    direct = bool((getattr(event, "content", None) or {}).get("is_direct"))
            if not self._may_join(room_id, inviter, direct):
                log.info("invited to %s by %s: not a room apbot serves, declined",
                         room_id, inviter or "?")
                await self.client.room_leave(room_id)
                continue
            answer = await self.client.join(room_id)
            if isinstance(answer, ErrorResponse):
                log.warning("could not join %s: %s", room_id, answer)
                continue
            log.info("joined %s (invited by %s)", room_id, inviter or "?")

    async def _encrypted_rooms(self, sync: SyncResponse) -> None:
        """A room just joined that turns out to be encrypted: say so, and leave it."""
        for room_id, info in sync.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None or not room.encrypted:
                continue
            events = [e.source for e in info.timeline.events]
            if len(_after_my_join(events, self.me)) == len(events):
                continue  # joined before this sync: told when encryption was switched on
            await self._say_encrypted(room_id)
            await self.client.room_leave(room_id)
            log.info("left %s: it is encrypted", room_id)

    async def _follow_upgrades(self, sync: SyncResponse) -> None:
        """Served rooms this sync shows upgraded (an m.room.tombstone in their state or
        timeline): each continues in its replacement room."""
        for room_id, info in sync.rooms.join.items():
            for source in ([e.source for e in info.state]
                           + [e.source for e in info.timeline.events]):
                replacement = read_tombstone(source)
                if replacement is not None:
                    await self._continue_in(room_id, replacement)

    async def _continue_in(self, old: str, new: str) -> None:
        """The move recorded (the team room, posts and access follow it), the new room
        joined; a room that only admits invited members is joined on the invitation."""
        ctx = self.core.ctx
        if old == new or old not in served_chats(ctx):
            return
        if ctx.store.chat_migrations().get(old) != new:
            try:
                ctx.store.record_migration(old, new, self.clock())
            except StoreWriteError as err:  # the next start sees the tombstone again
                log.error("room %s was upgraded to %s, but %s", old, new, err)
                return
            log.info("room %s was upgraded: apbot continues in %s", old, new)
        if new in self.client.rooms or new in self.client.invited_rooms:
            return  # joined already, or joined with the invitation (see _invites)
        answer = await self.client.join(new)
        if isinstance(answer, ErrorResponse):
            log.info("could not join %s yet (%s): joined when invited", new, answer.status_code)

    def _may_join(self, room_id: str, inviter: str, direct: bool) -> bool:
        ctx = self.core.ctx
        # The served rooms include the rooms they continue in after an upgrade.
        if room_id in served_chats(ctx):
            return True
        if not direct or not inviter:
            return False
        return is_admin(ctx, inviter) or self._in_team(inviter)

    async def _say_encrypted(self, room_id: str) -> None:
        if room_id in self._told_encrypted:
            return
        self._told_encrypted.add(room_id)
        try:
            await self.sender.text(room_id, ENCRYPTED, msgtype="m.notice")
        except MatrixSendError as err:
            log.warning("could not say so in %s: %s", room_id, err)

    # -- who is who ---------------------------------------------------------------------

    def _note_creators(self, room_id: str, events: list[dict[str, Any]]) -> None:
        """Creators and power levels from a room's state and timeline events, in order."""
        for event in events:
            if event.get("type") == "m.room.power_levels" and event.get("state_key") == "":
                users = (event.get("content") or {}).get("users")
                self._levels[room_id] = ({str(u): level for u, level in users.items()
                                          if isinstance(level, int)}
                                         if isinstance(users, dict) else {})
            if event.get("type") == "m.room.create" and event.get("state_key") == "":
                content = event.get("content") or {}
                more = content.get("additional_creators")
                creators = {str(event.get("sender", ""))} | (
                    {str(c) for c in more} if isinstance(more, list) else set())
                self._creators[room_id] = (str(content.get("room_version", "1")),
                                           frozenset(creators))

    def _update_admins(self) -> None:
        """Without APBOT_ADMIN_IDS, the team room's moderators and admins (power ≥ 50),
        and its creators where the room version makes them the highest power."""
        if self._configured_admins:
            return
        team = team_chat(self.core.ctx)
        if team is None or team not in self._levels:
            return
        admins = {user for user, level in self._levels[team].items()
                  if level >= ADMIN_POWER and user != self.me}
        version, creators = self._creators.get(str(team), ("1", frozenset()))
        if version.isdigit() and int(version) >= 12:
            admins |= creators - {self.me}
        self._set_admins(frozenset(admins))

    def _set_admins(self, admins: frozenset[str]) -> None:
        settings = self.core.ctx.settings
        if admins != settings.admin_ids:
            self.core.ctx = replace(self.core.ctx, settings=replace(settings, admin_ids=admins))

    def _in_team(self, user_id: str) -> bool:
        team = team_chat(self.core.ctx)
        room = self.client.rooms.get(str(team)) if team is not None else None
        return room is not None and user_id in room.users

    def _chat_type(self, room_id: str) -> str:
        """ "private" for a direct chat (only apbot and one person), else "group"."""
        room = self.client.rooms.get(room_id)
        if room_id in served_chats(self.core.ctx) or room is None:
            return "group"
        return "private" if room.joined_count <= 2 else "group"

    def _name(self, room_id: str, user_id: str) -> str:
        room = self.client.rooms.get(room_id)
        name = room.user_name(user_id) if room is not None else None
        return name or user_id

    # -- handling -----------------------------------------------------------------------

    async def handle(self, event: Event, again: bool = False) -> None:
        """One event from the inbox; marked done once its replies are delivered."""
        if again and event.attempts >= MAX_ATTEMPTS:
            log.error("event %s was begun %d times without being answered; it is given up",
                      event.key, event.attempts)
            self.inbox.done(event)
            return
        self.inbox.start(event)
        room_id = str(event.payload.get("room_id", ""))
        source = event.payload.get("event")
        try:
            received = datetime.fromisoformat(str(event.payload["received"]))
        except (KeyError, ValueError):
            received = self.clock()
        try:
            if isinstance(source, dict):
                await self._on_event(event, room_id, source, received)
        except Exception:
            log.exception("handling %s failed", event.key)
            with contextlib.suppress(Exception):
                await self.sender.text(room_id, SORRY)
        self.inbox.done(event)
        await self._hand_out_notices()

    async def _on_event(self, event: Event, room_id: str, source: dict[str, Any],
                        received: datetime) -> None:
        kind = source.get("type")
        if kind == "m.room.encryption":
            await self._say_encrypted(room_id)
            return
        if kind == "m.room.encrypted" and source.get("sender") != self.me:
            log.info("an encrypted message in %s cannot be read", room_id)
            return
        reaction = read_reaction(source, self.me)
        if reaction is not None:
            target = await self._event(room_id, reaction.target)
            data = button_data(target, self.me, reaction.key) if target else None
            if data is not None:
                await self._press(room_id, reaction.sender, data, reaction.target)
            return
        names = self._my_names(room_id)
        msg = read_message(source, self.me, names)
        if msg is None:
            return
        incoming = await self._incoming(room_id, msg, received)
        if incoming is None:
            return
        if isinstance(incoming, Reply):
            await self._send(event, room_id, [incoming], msg.message_id)
            return
        replies = self.core.handle(incoming, self.clock())
        await self._send(event, room_id, replies,
                         msg.message_id if incoming.chat_type != "private" else None)

    def _my_names(self, room_id: str) -> tuple[str, ...]:
        room = self.client.rooms.get(room_id)
        name = room.user_name(self.me) if room is not None else None
        return (name,) if name else ()

    async def _incoming(self, room_id: str, msg: Message,
                        received: datetime) -> Incoming | Reply | None:
        """The core's view of a message (a Reply when it must be answered here)."""
        reply_to_bot, reply_to_user, reply_to_user_id, reply_to_text = False, None, None, None
        if msg.reply_to is not None:
            replied = await self._event(room_id, msg.reply_to)
            if replied is not None and replied.get("sender") == self.me:
                reply_to_bot = True
                data = button_data(replied, self.me, msg.text) if not msg.edited else None
                if data is not None:  # "Rückgängig" or "1" as a reply: the button
                    await self._press(room_id, msg.sender, data, msg.reply_to)
                    return None
            elif replied is not None:
                reply_to_user_id = str(replied.get("sender", ""))
                reply_to_user = self._name(room_id, reply_to_user_id)
            if replied is not None:
                reply_to_text = replied_text(replied)
        chat_type = self._chat_type(room_id)
        file = None
        if (msg.file_name and msg.file_url and not msg.edited
                and is_workbook(msg.file_name)):
            if (msg.file_size or 0) > MAX_UPLOAD:
                return Reply(TOO_LARGE)
            answer = await self.client.download(mxc=msg.file_url)
            if not isinstance(answer, DownloadResponse) or len(answer.body) > MAX_UPLOAD:
                log.warning("could not fetch %s: %s", msg.file_name, answer)
                return Reply(TOO_LARGE if isinstance(answer, DownloadResponse)
                             else DOWNLOAD_FAILED)
            file = SentFile(msg.file_name, bytes(answer.body))
        return Incoming(
            text=msg.text,
            chat_id=room_id,
            user_id=msg.sender,
            user_name=self._name(room_id, msg.sender),
            chat_type=chat_type,
            message_id=msg.message_id,
            # The homeserver says how long ago it was written: a date on the bot's clock.
            date=received - timedelta(milliseconds=msg.age_ms),
            reply_to_bot=reply_to_bot,
            mentions_bot=msg.mentions_me,
            mentions_other=msg.mentions_other,
            edited=msg.edited,
            reply_to_user=reply_to_user,
            file=file,
            team_member=chat_type == "private" and self._in_team(msg.sender),
            user_handle=localpart(msg.sender),
            reply_to_message_id=msg.reply_to,
            reply_to_user_id=reply_to_user_id,
            reply_to_text=reply_to_text,
        )

    async def _event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        answer = await self.client.room_get_event(room_id, event_id)
        if isinstance(answer, RoomGetEventResponse):
            source: dict[str, Any] = answer.event.source
            return source
        log.info("could not fetch %s in %s: %s", event_id, room_id, answer)
        return None

    async def _press(self, room_id: str, user_id: str, data: str,
                     message: MessageId) -> None:
        """A reaction (or reply) standing for a button of our message `message`."""
        private = self._chat_type(room_id) == "private"
        press = ButtonPress(data, room_id, user_id, self._name(room_id, user_id),
                            team_member=private and self._in_team(user_id),
                            user_handle=localpart(user_id))
        result = self.core.press(press, self.clock())
        if result.new_text is not None:
            await self.sender.edit(room_id, message, result.new_text)
        else:
            await self.sender.text(room_id, result.notice, msgtype="m.notice",
                                   reply_to=message)
        for chat_id, reply in result.posts:
            await self.sender.reply(chat_id, reply)

    async def _send(self, event: Event, room_id: ChatId, replies: list[Reply],
                    reply_to: MessageId | None) -> None:
        """The replies in order; each noted in the inbox once delivered, so that a restart
        does not send it again."""
        for part, reply in enumerate(replies):
            if part in event.sent:
                continue
            try:
                await self.sender.reply(room_id, reply, reply_to if part == 0 else None)
            except MatrixSendError as err:
                log.error("a reply to %s could not be sent: %s", room_id, err)
            self.inbox.sent(event, part)

    # -- posts and notices --------------------------------------------------------------

    def _start_posting(self) -> None:
        def core_ctx() -> Context:  # the core's context is replaced on plan changes
            return self.core.ctx
        runner = PostRunner(core_ctx().store, core_ctx().plan, core_ctx().settings.timezone,
                            lambda: team_chat(core_ctx()),
                            lambda post, late, now: compose(core_ctx(), post, late, now),
                            MatrixPublisher(self.sender), up_since=self.clock())
        self.scheduler = PostScheduler(runner, self.clock, notify=self.tell_admins)
        self.core.plan_listeners.append(self.scheduler.replan)
        self.core.post_listeners.append(self.scheduler.look_now)
        self.scheduler.start()

    async def _start_calendar(self) -> None:
        """The calendar for subscription, when APBOT_CALENDAR_PORT is set (as on Telegram)."""
        try:
            self.calendar = await start_calendar_server(lambda: self.core.ctx, self.clock)
        except OSError as err:
            settings = self.core.ctx.settings
            log.error("calendar server cannot listen on %s port %s: %s",
                      settings.calendar_host, settings.calendar_port, err)
            await self.tell_admins(f"Das Kalender-Abo läuft nicht: Port "
                                   f"{settings.calendar_port} auf {settings.calendar_host} ist "
                                   f"nicht zu haben ({err.strerror or err}).")

    async def tell_admins(self, text: str) -> None:
        """A notice for whoever runs apbot: in each admin's direct chat with apbot, or the
        team room when no admin has one (apbot opens no direct chats itself)."""
        targets = self._admin_chats() or (
            [team] if (team := team_chat(self.core.ctx)) is not None else [])
        for room_id in targets:
            try:
                await self.sender.text(room_id, esc(text), msgtype="m.notice")
            except MatrixSendError as err:
                log.warning("could not tell %s: %s (%s)", room_id, text, err)

    def _admin_chats(self) -> list[str]:
        """The direct chats (apbot and one person) apbot has with admins, one per admin."""
        chats: dict[str, str] = {}
        served = served_chats(self.core.ctx)
        for room_id, room in self.client.rooms.items():
            others = [u for u in room.users if u != self.me]
            if (room_id not in served and room.joined_count <= 2 and len(others) == 1
                    and is_admin(self.core.ctx, others[0]) and not room.encrypted):
                chats.setdefault(others[0], room_id)
        return sorted(chats.values())

    async def _hand_out_notices(self) -> None:
        for notice in self.core.ctx.store.take_notices():
            await self.tell_admins(notice)

    # -- waiting ------------------------------------------------------------------------

    async def _unless_stopping(self, call: Awaitable[T]) -> T:
        return await unless_stopping(call, self.stopping)

    async def _pause(self, seconds: float) -> None:
        await pause(seconds, self.stopping)


def _after_my_join(events: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A room's new events, without those from before apbot joined it (its history)."""
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if (event.get("type") == "m.room.member" and event.get("state_key") == me
                and (event.get("content") or {}).get("membership") == "join"
                and (event.get("unsigned") or {}).get("prev_content", {}).get(
                    "membership") != "join"):
            return events[i + 1:]
    return events
