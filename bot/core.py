"""The one conversation core behind every front-end: message in, German HTML replies out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.format import split_message
from bot.settings import Settings
from workflows.plan import Plan
from workflows.storage import StoreWriteError
from workflows.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """A chat message as every front-end hands it to the core."""

    text: str
    chat_id: int
    user_id: int
    user_name: str
    chat_type: str = "group"  # "private", "group", "supergroup"
    message_id: int | None = None
    date: datetime | None = None
    is_bot: bool = False
    reply_to_bot: bool = False
    forwarded_from: str | None = None
    edited: bool = False
    via_console: bool = False  # the console acts as an admin member of the team chat


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    text: str  # Telegram HTML, at most 4096 characters
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Context:
    """What a command needs: configuration, the plan, the store, the bot's own name."""

    settings: Settings
    plan: Plan
    store: Store
    bot_username: str | None = None


Handler = Callable[[Context, Incoming, str, datetime], "list[Reply] | str"]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: str  # German, for /hilfe and the Telegram command menu
    aliases: tuple[str, ...] = ()
    usage: str = ""
    menu: bool = True


@dataclass
class Commands:
    """The command table: one place for names, aliases, help and the menu."""

    by_name: dict[str, Command] = field(default_factory=dict)
    ordered: list[Command] = field(default_factory=list)

    def add(self, command: Command) -> None:
        self.ordered.append(command)
        for name in (command.name, *command.aliases):
            self.by_name[name] = command


NOT_FOR_YOU = ("Ich arbeite nur für das Koordinierungsteam Bildungskommunen und antworte hier "
               "nicht (Chat-ID {chat_id}).")
SORRY = "Entschuldigung, da ist bei mir etwas schiefgegangen. Bitte versuchen Sie es noch einmal."


def is_admin(settings: Settings, msg: Incoming) -> bool:
    return msg.via_console or msg.user_id in settings.admin_ids


def chat_allowed(settings: Settings, msg: Incoming) -> bool:
    """Team chat, further allowed chats, private chats of admins, and the console."""
    if msg.via_console or msg.chat_id in settings.chat_ids:
        return True
    return msg.chat_type == "private" and msg.user_id in settings.admin_ids


def split_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """("status", "AP3") from "/status@apbot AP3"; None for a command meant for another bot."""
    head, _, args = text.strip().partition(" ")
    if "\n" in head:
        head, _, rest = head.partition("\n")
        args = f"{rest} {args}".strip()
    name, _, target = head[1:].partition("@")
    if target and (bot_username is None or target.lower() != bot_username.lower()):
        return None
    return name.lower(), args.strip()


def is_addressed(msg: Incoming, bot_username: str | None) -> bool:
    """Private chat, @mention, reply to the bot, or a message starting with "Bot," or "?"."""
    if msg.chat_type == "private" or msg.reply_to_bot or msg.via_console:
        return True
    text = msg.text.strip()
    if bot_username and f"@{bot_username.lower()}" in text.lower():
        return True
    return text.lower().startswith(("bot,", "bot:", "?"))


class Core:
    """Turns an incoming message into replies; the same for console and Telegram."""

    def __init__(self, ctx: Context, commands: Commands) -> None:
        self.ctx = ctx
        self.commands = commands

    def with_username(self, username: str | None) -> Core:
        """A core that knows the bot's @name (learnt from getMe at start-up)."""
        ctx = Context(self.ctx.settings, self.ctx.plan, self.ctx.store, username)
        return Core(ctx, self.commands)

    def handle(self, msg: Incoming, now: datetime) -> list[Reply]:
        """All replies to one message; an empty list means: stay silent."""
        if msg.is_bot:
            return []
        ctx = self.ctx
        text = msg.text.strip()
        command = split_command(text, ctx.bot_username) if text.startswith("/") else None
        if text.startswith("/") and command is None:
            return []  # a command for another bot in the group
        if not chat_allowed(ctx.settings, msg):
            if command or is_addressed(msg, ctx.bot_username):
                return [Reply(NOT_FOR_YOU.format(chat_id=msg.chat_id))]
            return []
        if msg.edited and command:
            return []  # an edited command was already answered once
        try:
            if command:
                result = self._run(command[0], command[1], msg, now)
            else:
                result = self._chat(msg, now)
        except StoreWriteError as err:
            log.error("store write failed: %s", err)
            result = ("Das konnte ich gerade nicht speichern – der Datenträger meldet einen "
                      "Fehler. Es ist nichts verloren gegangen; bitte später erneut senden.")
        if isinstance(result, str):
            result = [Reply(result)] if result else []
        return [Reply(part, r.buttons if i == 0 else ())
                for r in result for i, part in enumerate(split_message(r.text))]

    def _run(self, name: str, args: str, msg: Incoming, now: datetime) -> list[Reply] | str:
        command = self.commands.by_name.get(name)
        if command is None:
            return (f"Den Befehl /{name} kenne ich nicht. Mit /hilfe sehen Sie, was ich kann.")
        return command.handler(self.ctx, msg, args, now)

    def _chat(self, msg: Incoming, now: datetime) -> list[Reply] | str:
        if not is_addressed(msg, self.ctx.bot_username):
            return []
        return ("Das habe ich leider nicht verstanden. Ich kenne Befehle wie "
                "/status AP3 oder /plan – /hilfe zeigt alle.")
