"""The shapes that pass between front-ends, the core and the commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.settings import Settings
from workflows.ids import ChatId, MessageId, UserId
from workflows.plan import Plan
from workflows.store import Store


@dataclass(frozen=True)
class SentFile:
    """A file someone sent into the chat (e.g. the plan as an edited Excel workbook)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Incoming:
    """A chat message as every front-end hands it to the core."""

    text: str
    chat_id: ChatId
    user_id: UserId
    user_name: str
    chat_type: str = "group"  # "private", "group", "supergroup"
    message_id: MessageId | None = None
    date: datetime | None = None
    is_bot: bool = False
    reply_to_bot: bool = False
    forwarded_from: str | None = None
    edited: bool = False
    reply_to_user: str | None = None  # the author of the message this one answers
    file: SentFile | None = None
    team_member: bool = False  # a private chat of someone in the team chat (front-end checks)
    via_console: bool = False  # the console acts as an admin member of the team chat
    user_handle: str | None = None  # the sender's @name without "@", where the chat has one
    reply_to_message_id: MessageId | None = None  # the message this one answers
    reply_to_user_id: UserId | None = None  # the author of that message, a person
    reply_to_text: str | None = None  # and its text
    # Addressing as the messenger marks it (a Telegram @name, a Matrix mention or pill);
    # the front-end takes the bot's own mention out of `text`.
    mentions_bot: bool = False
    mentions_other: bool = False  # someone else is named: the question is theirs


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file to send: a picture (sent as a photo, else as a document) or a document.

    `source` is the file's bytes, or a function that makes them from data already read:
    the Telegram front-end runs such a function in a worker thread, so drawing a chart
    does not hold up the other chats.
    """

    filename: str
    source: bytes | Callable[[], bytes]
    kind: str  # "photo" or "document"
    caption: str  # HTML as in Reply, at most 1024 characters (Telegram's caption limit)
    fallback_text: str = ""  # sent as a message when the file cannot be sent at all

    @functools.cached_property
    def data(self) -> bytes:
        return self.source() if callable(self.source) else self.source

    @property
    def is_rendered(self) -> bool:
        return not callable(self.source) or "data" in self.__dict__


@dataclass(frozen=True)
class Reply:
    text: str  # HTML of the few tags every front-end renders (b, i, u, s, code, pre, a)
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Frontend:
    """What the messenger in front of the core can take; each front-end describes its own.

    The core shapes its answers to it: a long text becomes several messages of at most
    `max_length` UTF-16 code units (None: any length, as in a terminal).
    """

    name: str = "chat"
    max_length: int | None = 4096
    buttons: bool = True  # buttons under a message, or what stands for them (reactions)
    edits: bool = True  # edited messages arrive and correct what they created
    # Told in groups with /start: what keeps the bot from reading the team's messages
    # there (Telegram's privacy mode), in German HTML; empty when nothing does.
    group_hint: str = ""


@dataclass(frozen=True)
class Context:
    """What a command needs: configuration, the plan, the store, the front-end's ways."""

    settings: Settings
    plan: Plan
    store: Store
    frontend: Frontend = Frontend()


Clock = Callable[[], datetime]  # the process's one source of "now" (aware)


def system_clock(tz: ZoneInfo) -> Clock:
    """The machine's clock, in the configured time zone."""
    def now() -> datetime:
        return datetime.now(tz)
    return now


def local_today(ctx: Context, now: datetime) -> date:
    """The day `now` falls on in the configured time zone: days are counted there."""
    return now.astimezone(ctx.settings.timezone).date()


@dataclass(frozen=True)
class ButtonPress:
    """Someone pressed an inline button under one of our messages."""

    data: str
    chat_id: ChatId
    user_id: UserId
    user_name: str
    via_console: bool = False
    team_member: bool = False
    user_handle: str | None = None


@dataclass(frozen=True)
class PressResult:
    notice: str  # the short pop-up answer
    new_text: str | None = None  # replaces the message that carried the button
    plan: Plan | None = None  # the plan from now on, when the press changed it
    posts: tuple[tuple[ChatId, Reply], ...] = ()  # further messages: (chat, reply)


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
