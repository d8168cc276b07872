"""The Telegram front-end: python-telegram-bot long polling around the same core."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from functools import partial

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from bot.access import team_chat
from bot.core import SORRY, Core
from bot.messages import ButtonPress, Incoming, Reply
from bot.outbox import Attempt, Outbox
from bot.posts import compose
from bot.telegram_send import (
    TelegramLimits,
    TelegramPublisher,
    send_file,
    send_text,
    with_retry,
)
from workflows.schedule import PostRunner, PostScheduler

log = logging.getLogger(__name__)
CORE = "core"
OUTBOX = "outbox"
SCHEDULER = "scheduler"


def to_incoming(message: Message, bot_id: int, edited: bool) -> Incoming | None:
    """The core's view of a Telegram message; None for service messages without a sender."""
    user = message.from_user
    if user is None:
        return None
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
    return Incoming(
        text=message.text or message.caption or "",
        chat_id=message.chat.id,
        user_id=user.id,
        user_name=user.full_name,
        chat_type=message.chat.type,
        message_id=message.message_id,
        date=message.date,
        is_bot=user.is_bot,
        reply_to_bot=bool(replied and replied.from_user and replied.from_user.id == bot_id),
        forwarded_from=forwarded,
        edited=edited,
    )


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in reply.buttons]]
    )


async def send_replies(outbox: Outbox, message: Message, replies: list[Reply]) -> None:
    """Hand the core's replies to the outbox: texts at once if possible, files later."""
    bot, chat_id = message.get_bot(), message.chat.id
    # In groups the answer quotes the question, so it is clear whom it answers.
    quote = (ReplyParameters(message.message_id, allow_sending_without_reply=True)
             if message.chat.type != "private" else None)
    if any(reply.attachment is not None for reply in replies):
        # A file may take a while to draw: it and whatever follows it wait in the background.
        outbox.later(chat_id, [partial(deliver, bot, chat_id, reply, quote)
                               for reply in replies])
        return
    await outbox.send(chat_id, [text_attempt(bot, chat_id, reply, quote) for reply in replies])


def text_attempt(bot: Bot, chat_id: int, reply: Reply, quote: ReplyParameters | None) -> Attempt:
    """One try at sending a text reply, with its button if it has one."""
    return partial(bot.send_message, chat_id, reply.text, parse_mode=ParseMode.HTML,
                   reply_markup=markup(reply), reply_parameters=quote)


async def deliver(bot: Bot, chat_id: int, reply: Reply, quote: ReplyParameters | None) -> None:
    """One reply, retries included."""
    if reply.attachment is not None:
        await send_file(bot, chat_id, reply.attachment)
    else:
        await with_retry(text_attempt(bot, chat_id, reply, quote))


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update goes through here: convert, ask the core, send what it says."""
    core: Core = context.bot_data[CORE]
    if update.callback_query is not None:
        await on_button(core, context.bot_data[OUTBOX], update.callback_query)
        return
    message = update.message or update.edited_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        # The group became a supergroup: its new id inherits everything.
        core.ctx.store.record_migration(message.chat.id, message.migrate_to_chat_id,
                                        datetime.now(core.ctx.settings.timezone))
        log.info("chat %s migrated to %s", message.chat.id, message.migrate_to_chat_id)
        return
    incoming = to_incoming(message, context.bot.id, edited=update.edited_message is not None)
    if incoming is None:
        return
    now = datetime.now(core.ctx.settings.timezone)
    await send_replies(context.bot_data[OUTBOX], message, core.handle(incoming, now))


async def on_button(core: Core, outbox: Outbox, query: CallbackQuery) -> None:
    """A press on "Rückgängig": the core decides, we answer and update the message."""
    message = query.message
    if message is None or query.data is None:
        await query.answer()
        return
    press = ButtonPress(query.data, message.chat.id, query.from_user.id,
                        query.from_user.full_name)
    result = core.press(press, datetime.now(core.ctx.settings.timezone))
    await query.answer(result.notice)
    if result.new_text is not None:
        await outbox.send(message.chat.id, [partial(
            query.edit_message_text, result.new_text, parse_mode=ParseMode.HTML)])


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and apologise in the chat; the bot keeps running."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        # In the background: the apology must not hold up the next update.
        context.bot_data[OUTBOX].later(update.effective_chat.id, [partial(
            apologise, context.bot, update.effective_chat.id)])


async def apologise(bot: Bot, chat_id: int) -> None:
    try:
        await send_text(bot, chat_id, SORRY)
    except TelegramError as err:
        log.warning("could not send the apology: %s", err)


async def start_posting(app: Application) -> None:  # type: ignore[type-arg]
    """Run the post scheduler inside the bot's event loop."""
    core: Core = app.bot_data[CORE]
    settings = core.ctx.settings

    def clock() -> datetime:
        return datetime.now(settings.timezone)

    runner = PostRunner(core.ctx.store, core.ctx.plan, settings.timezone,
                        lambda: team_chat(app.bot_data[CORE].ctx),
                        lambda post, late, now: compose(app.bot_data[CORE].ctx, post, late, now),
                        TelegramPublisher(app.bot), up_since=clock())
    scheduler = PostScheduler(runner, clock)
    scheduler.start()
    app.bot_data[SCHEDULER] = scheduler


async def drop_waiting_replies(app: Application) -> None:  # type: ignore[type-arg]
    await app.bot_data[OUTBOX].close()


async def stop_posting(app: Application) -> None:  # type: ignore[type-arg]
    scheduler: PostScheduler | None = app.bot_data.get(SCHEDULER)
    if scheduler is not None:
        scheduler.shutdown()


async def on_start(app: Application) -> None:  # type: ignore[type-arg]
    await register_menu(app)
    await start_posting(app)


async def register_menu(app: Application) -> None:  # type: ignore[type-arg]
    """Learn our @name and set the command menu (best effort)."""
    core: Core = app.bot_data[CORE]
    me = app.bot.bot
    app.bot_data[CORE] = core = core.with_identity(me.username, me.can_read_all_group_messages)
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


def build_application(core: Core) -> Application:  # type: ignore[type-arg]
    settings = core.ctx.settings
    if not settings.token:
        raise ValueError("no token")
    limits = TelegramLimits()
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        # Keeps replies and posts within Telegram's limits (30/s, 20/min per group).
        .rate_limiter(limits)
        # Updates are handled one at a time, in order; a reply that would wait is handed
        # to the outbox, so it never holds up the next update.
        .concurrent_updates(False)
        .job_queue(None)  # automatic posts have their own scheduler
        .post_init(on_start)
        .post_stop(drop_waiting_replies)
        .post_shutdown(stop_posting)
        .build()
    )
    app.bot_data[CORE] = core
    app.bot_data[OUTBOX] = Outbox(limits)
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app


def run_telegram(core: Core) -> None:
    """Long-poll until SIGINT/SIGTERM."""
    # Retry-after as a timedelta, as python-telegram-bot 23 will have it (no warning).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    app = build_application(core)
    # Retry start-up forever: a network outage at boot must not leave the team without its bot.
    app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
