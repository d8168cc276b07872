"""The Telegram front-end: python-telegram-bot around the same core (handlers, sending)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from telegram import Bot, BotCommand, CallbackQuery, Document, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot.access import team_chat
from bot.core import SORRY, Core, is_workbook
from bot.files import preload_chart
from bot.frontends.calendar_server import CalendarServer, start_calendar_server
from bot.frontends.inbox import Event, Inbox
from bot.frontends.telegram.addressing import PRIVACY_HINT, read_addressing
from bot.frontends.telegram.limits import TelegramLimits
from bot.frontends.telegram.members import Members
from bot.frontends.telegram.sending import TELEGRAM, ButtonData, Sender
from bot.frontends.telegram.transport import AiohttpRequest
from bot.messages import ButtonPress, Clock, Incoming, Reply, SentFile, system_clock
from bot.post_scheduler import PostScheduler
from bot.posts import compose
from bot.render.chart_worker import WORKER
from bot.render.format import esc
from workflows.ids import ChatId, UserId
from workflows.schedule import PostRunner

log = logging.getLogger(__name__)
CORE = "core"
CLOCK = "clock"
SENDER = "sender"
SCHEDULER = "scheduler"
MEMBERS = "members"
CALENDAR = "calendar"
PRELOAD = "preload"
TRACKING = "tracking"  # the inbox entry being handled, if it came through the inbox
USERNAME = "username"  # the bot's @name without "@", from getMe
TRANSPORT = "transport"  # the two connection pools (replies and posts; getUpdates)
# The day's chart is read this long after start-up, not before the first getUpdates:
# with a long history the reading takes a while (0.3 s at 50,000 reports).
PRELOAD_AFTER = 1.0


TELEGRAM_SERVICE = 777000  # "Telegram": a linked channel's post forwarded into the group
ANONYMOUS_ADMINS = "Admins der Gruppe (anonym)"


def to_incoming(message: Message, bot_id: int, username: str | None,
                edited: bool) -> Incoming | None:
    """The core's view of a Telegram message; None for what is nobody's message.

    Service messages without a sender and a linked channel's posts (Telegram forwards
    them into the discussion group as user 777000) are not the team's messages, nor is a
    command for another bot. A group admin writing anonymously is credited to the group's
    admins.
    """
    user = message.from_user
    if user is None or user.id == TELEGRAM_SERVICE or message.is_automatic_forward:
        return None
    addressing = read_addressing(message.text or message.caption or "", username,
                                 message.entities or message.caption_entities)
    if addressing is None:
        return None
    user_id, user_name, is_bot = user.id, user.full_name, user.is_bot
    sender_chat = message.sender_chat
    if sender_chat is not None:
        if sender_chat.id != message.chat.id:
            return None  # written as a channel: not a member of the team
        user_id, user_name, is_bot = sender_chat.id, ANONYMOUS_ADMINS, False
    origin = message.forward_origin
    forwarded: str | None = None
    if origin is not None:
        # user, hidden user, chat (sender_chat) or channel (chat) origin
        sender = getattr(origin, "sender_user", None)
        chat = getattr(origin, "sender_chat", None) or getattr(origin, "chat", None)
        forwarded = (sender.full_name if sender else
                     getattr(origin, "sender_user_name", None) or
                     getattr(chat, "title", None) or "unbekannt")
    replied = message.reply_to_message
    replied_user = replied.from_user if replied is not None else None
    return Incoming(
        text=addressing.text,
        mentions_bot=addressing.mentions_bot,
        mentions_other=addressing.mentions_other,
        # The core keeps ids as opaque text; Telegram's numbers become their decimal form.
        chat_id=str(message.chat.id),
        user_id=str(user_id),
        user_name=user_name,
        chat_type=message.chat.type,
        message_id=str(message.message_id),
        date=message.date,
        is_bot=is_bot,
        reply_to_bot=bool(replied and replied.from_user and replied.from_user.id == bot_id),
        forwarded_from=forwarded,
        edited=edited,
        reply_to_user=(replied_user.full_name if replied_user and not replied_user.is_bot
                       else None),
        user_handle=user.username if sender_chat is None else None,
        reply_to_message_id=str(replied.message_id) if replied is not None else None,
        reply_to_user_id=(str(replied_user.id) if replied_user and not replied_user.is_bot
                          else None),
        reply_to_text=(replied.text or replied.caption) if replied is not None else None,
    )


async def send_replies(sender: Sender, message: Message, replies: list[Reply],
                       tracking: Tracking | None = None) -> None:
    """The core's replies to `message`; with `tracking` (it came through the inbox), parts
    delivered before a restart are not sent again, and each is noted as it goes out."""
    # In groups the answer quotes the question, so it is clear whom it answers.
    quote = str(message.message_id) if message.chat.type != "private" else None
    await sender.replies(str(message.chat.id), replies, quote,
                         skip=tracking.event.sent if tracking else (),
                         delivered=partial(tracking.inbox.sent, tracking.event)
                         if tracking else None)


@dataclass(frozen=True)
class Tracking:
    """The inbox entry whose replies are being sent."""

    inbox: Inbox
    event: Event


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update goes through here: convert, ask the core, send what it says."""
    core: Core = context.bot_data[CORE]
    if update.callback_query is not None:
        await on_button(core, context.bot_data[SENDER], update.callback_query,
                        context.bot_data[CLOCK], context.bot_data)
        return
    message = update.message or update.edited_message
    if message is None:
        return
    clock: Clock = context.bot_data[CLOCK]
    if message.migrate_to_chat_id is not None:
        # The group became a supergroup: its new id inherits everything.
        core.ctx.store.record_migration(str(message.chat.id), str(message.migrate_to_chat_id),
                                        clock())
        log.info("chat %s migrated to %s", message.chat.id, message.migrate_to_chat_id)
        return
    incoming = to_incoming(message, context.bot.id, context.bot_data.get(USERNAME),
                           edited=update.edited_message is not None)
    if incoming is None:
        return
    sender, tracking = context.bot_data[SENDER], context.bot_data.get(TRACKING)
    if incoming.chat_type == "private":
        incoming = replace(incoming, team_member=await in_team(context.bot_data, context.bot,
                                                               incoming.user_id))
    document = message.document
    if document is not None and is_workbook(document.file_name or "") and not incoming.edited:
        try:
            incoming = replace(incoming, file=await download(document))
        except (TelegramError, ValueError) as err:
            log.warning("could not fetch %s: %s", document.file_name, err)
            await send_replies(sender, message, [Reply(str(err) if isinstance(err, ValueError)
                                                       else DOWNLOAD_FAILED)], tracking)
            return
    await send_replies(sender, message, core.handle(incoming, clock()), tracking)


async def in_team(bot_data: dict[str, Any], bot: Bot, user_id: UserId) -> bool:
    """Is this person in the team chat? Admins need not be; without a team chat, nobody."""
    core: Core = bot_data[CORE]
    team = team_chat(core.ctx)
    if team is None or user_id in core.ctx.settings.admin_ids:
        return False
    members: Members = bot_data[MEMBERS]
    return await members.is_member(bot, team, user_id)


MAX_UPLOAD = 5 * 1024 * 1024  # a plan's workbook has some kilobytes
DOWNLOAD_FAILED = "Die Datei ließ sich nicht von Telegram laden – bitte noch einmal senden."


async def download(document: Document) -> SentFile:
    """The file a member sent; ValueError (German) when it is too large to be a plan."""
    if (document.file_size or 0) > MAX_UPLOAD:
        raise ValueError("Die Datei ist größer als 5 MB – eine Arbeitsmappe des Plans ist viel "
                         "kleiner. Ich habe nichts geändert.")
    file = await document.get_file()
    return SentFile(document.file_name or "plan.xlsx", bytes(await file.download_as_bytearray()))


async def on_button(core: Core, sender: Sender, query: CallbackQuery, clock: Clock,
                    bot_data: dict[str, Any]) -> None:
    """A press on a button: the core decides, we answer and update the message."""
    message = query.message
    data = sender.buttons.unpack(query.data) if query.data is not None else None
    if message is None or data is None:
        await query.answer("Diese Schaltfläche kenne ich nicht (mehr)." if message else None)
        return
    private = message.chat.type == "private"
    chat_id, user_id = str(message.chat.id), str(query.from_user.id)
    press = ButtonPress(data, chat_id, user_id, query.from_user.full_name,
                        user_handle=query.from_user.username,
                        team_member=private and await in_team(bot_data, query.get_bot(),
                                                              user_id))
    result = core.press(press, clock())
    await query.answer(result.notice)
    if result.new_text is not None:
        await sender.edit(chat_id, str(message.message_id), result.new_text)
    for chat_id, reply in result.posts:
        await sender.text(chat_id, reply)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and apologise in the chat; the bot keeps running."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        # In the background: the apology must not hold up the next update.
        context.bot_data[SENDER].notify(str(update.effective_chat.id), SORRY)


def tell_admins(app: Application, text: str) -> None:  # type: ignore[type-arg]
    """A notice for whoever runs apbot (a failed backup, posting stopped): in each admin's
    private chat, or the team chat when no admin is configured; sent in the background."""
    core: Core = app.bot_data[CORE]
    targets: list[ChatId | None] = [*sorted(core.ctx.settings.admin_ids)] or [team_chat(core.ctx)]
    for chat_id in targets:
        if chat_id is not None:
            app.bot_data[SENDER].notify(chat_id, esc(text))


def hand_out_notices(app: Application) -> None:  # type: ignore[type-arg]
    """The store's notices not yet handed out, to the admins."""
    core: Core = app.bot_data[CORE]
    for notice in core.ctx.store.take_notices():
        tell_admins(app, notice)


async def start_posting(app: Application) -> None:  # type: ignore[type-arg]
    """Run the post scheduler inside the bot's event loop."""
    core: Core = app.bot_data[CORE]
    clock: Clock = app.bot_data[CLOCK]
    runner = PostRunner(core.ctx.store, core.ctx.plan, core.ctx.settings.timezone,
                        lambda: team_chat(app.bot_data[CORE].ctx),
                        lambda post, late, now: compose(app.bot_data[CORE].ctx, post, late, now),
                        app.bot_data[SENDER], up_since=clock())
    scheduler = PostScheduler(runner, clock, notify=partial(tell_admins, app))
    core.plan_listeners.append(scheduler.replan)
    core.post_listeners.append(scheduler.look_now)
    scheduler.start()
    app.bot_data[SCHEDULER] = scheduler


async def stop_posting(app: Application, grace: float = 0.0) -> None:  # type: ignore[type-arg]
    """No more posts; one under way gets `grace` seconds to finish."""
    scheduler: PostScheduler | None = app.bot_data.get(SCHEDULER)
    if scheduler is not None:
        await scheduler.stop(grace)


async def start_calendar(app: Application) -> None:  # type: ignore[type-arg]
    """Serve the calendar for subscription, if APBOT_CALENDAR_PORT is set.

    A port that cannot be had does not stop the bot: it is logged and the admins are told.
    """
    try:
        server = await start_calendar_server(lambda: app.bot_data[CORE].ctx, app.bot_data[CLOCK])
    except OSError as err:
        settings = app.bot_data[CORE].ctx.settings
        log.error("calendar server cannot listen on %s port %s: %s", settings.calendar_host,
                  settings.calendar_port, err)
        tell_admins(app, f"Das Kalender-Abo läuft nicht: Port {settings.calendar_port} auf "
                         f"{settings.calendar_host} ist nicht zu haben ({err.strerror or err}).")
        return
    if server is not None:
        app.bot_data[CALENDAR] = server


async def stop_calendar(app: Application) -> None:  # type: ignore[type-arg]
    server: CalendarServer | None = app.bot_data.pop(CALENDAR, None)
    if server is not None:
        await server.stop()


def start_preloading(app: Application) -> None:  # type: ignore[type-arg]
    """Have today's chart drawn (by the chart worker, which imports matplotlib from
    launch on) from a background thread, so that the first /zeitplan after start-up is
    answered from it.

    A daemon thread, not the event loop's executor: a SIGTERM right after start-up must
    not wait for the drawing.
    """
    core: Core = app.bot_data[CORE]
    job = preload_chart(core.ctx, app.bot_data[CLOCK]())

    def logged() -> None:
        try:
            job()
        except Exception as err:  # drawn again when asked for
            if not WORKER.stopped:  # (stopping meanwhile is no failure)
                log.warning("drawing the chart in advance failed: %s", err)

    thread = threading.Thread(target=logged, name="chart-preload", daemon=True)
    thread.start()
    app.bot_data[PRELOAD] = thread


async def on_start(app: Application) -> None:  # type: ignore[type-arg]
    await register_menu(app)
    await start_posting(app)
    await start_calendar(app)
    asyncio.get_running_loop().call_later(PRELOAD_AFTER, start_preloading, app)


async def register_menu(app: Application) -> None:  # type: ignore[type-arg]
    """Learn our @name and privacy mode, and set the command menu (best effort)."""
    core: Core = app.bot_data[CORE]
    me = app.bot.bot
    app.bot_data[USERNAME] = me.username
    hint = "" if me.can_read_all_group_messages is not False else PRIVACY_HINT
    app.bot_data[CORE] = core = core.with_frontend(replace(core.ctx.frontend, group_hint=hint))
    settings = core.ctx.settings
    if settings.team_chat_id is None:
        log.warning("APBOT_TEAM_CHAT_ID is not set: apbot answers only admins in private chats "
                    "and tells every group its chat id")
    commands = [BotCommand(c.name, c.description) for c in core.commands.ordered if c.menu]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as err:
        log.warning("could not register the command menu: %s", err)
    log.info("apbot is running as @%s", app.bot.username)


def file_url_of(api_base_url: str) -> str:
    """Telegram serves files beside its API: https://api.telegram.org/file/bot<token>/…"""
    head, sep, _ = api_base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot" if sep else api_base_url.rstrip("/") + "/file/bot"


def build_application(
        core: Core, clock: Clock | None = None,
        transport: tuple[BaseRequest, BaseRequest] | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, its handlers and its sender; fetching updates is in `polling`.

    `transport`: the requests for everything but getUpdates, and for getUpdates; by
    default aiohttp's (`transport.py`).
    """
    settings = core.ctx.settings
    if not settings.token:
        raise ValueError("no token")
    core = core.with_frontend(TELEGRAM)
    # Retry-after as a timedelta, as python-telegram-bot 23 will have it (no warning).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    limits = TelegramLimits()
    if transport is None:
        transport = (AiohttpRequest(), AiohttpRequest(connection_pool_size=1))
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        # Files come from the same server: …/bot → …/file/bot.
        .base_file_url(file_url_of(settings.api_base_url))
        # Keeps replies and posts within Telegram's limits (30/s, 20/min per group).
        .rate_limiter(limits)
        # HTTP in C (aiohttp) instead of httpx's pure Python: see transport.py.
        .request(transport[0])
        .get_updates_request(transport[1])
        # No Updater: it acknowledges a batch before the updates are handled. apbot's
        # own loop keeps each batch in the inbox first (bot/frontends/telegram/polling.py).
        .updater(None)
        .job_queue(None)  # automatic posts have their own scheduler
        .build()
    )
    app.bot_data[CORE] = core
    app.bot_data[TRANSPORT] = transport
    app.bot_data[CLOCK] = clock or system_clock(settings.timezone)
    app.bot_data[SENDER] = Sender(app.bot, limits, ButtonData(core.ctx.store,
                                                              app.bot_data[CLOCK]))
    app.bot_data[MEMBERS] = Members()
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app
