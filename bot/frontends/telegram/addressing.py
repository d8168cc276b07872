"""How a Telegram message speaks to apbot, in the forms the core takes.

Telegram addresses a bot in a group as "/status@apbot AP3" (a command meant for this
bot among several) and "@apbot Status AP 11" (a mention). The core knows neither form:
it takes "/status AP3" and a message marked `mentions_bot`, with the mention taken out.
Privacy mode, Telegram's way of hiding a group's messages from a bot, is told here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import MessageEntity

from bot.frontends.mentions import take_out

PRIVACY_HINT = (
    "ℹ️ <b>Hinweis:</b> Telegrams Datenschutzmodus ist für mich eingeschaltet – in dieser "
    "Gruppe sehe ich nur Befehle und Antworten an mich, keine Meldungen wie „AP3: Einladungen "
    "verschickt“. Abhilfe: mich zum Gruppen-Admin machen, oder in @BotFather /setprivacy → "
    "Disable wählen und mich danach aus der Gruppe entfernen und neu hinzufügen. Bis dahin "
    "geht es mit /update AP3 Text."
)

_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z][A-Za-z0-9_]{3,31})\b")


@dataclass(frozen=True)
class Addressing:
    """A message's text as the core takes it, and whom it names."""

    text: str
    mentions_bot: bool = False
    mentions_other: bool = False


def read_addressing(text: str, username: str | None,
                    entities: Sequence[MessageEntity] = ()) -> Addressing | None:
    """The core's form of `text`; None for a command meant for another bot.

    `username` is the bot's @name without "@" (None before getMe has answered: then a
    "/cmd@name" is nobody's we know). A person named by a link instead of an @name comes
    as a `text_mention` entity.
    """
    stripped = text.strip()
    if stripped.startswith("/"):
        head = re.split(r"[ \n]", stripped, maxsplit=1)[0]
        name, at, target = head.partition("@")
        if at:
            if username is None or target.lower() != username.lower():
                return None
            stripped = name + stripped[len(head):]
        return Addressing(stripped)
    mentions_bot = False
    if username:
        without = take_out(stripped, rf"(?<![\w.])@{re.escape(username)}\b")
        mentions_bot = without != stripped
        stripped = without
    others = (_HANDLE.search(stripped) is not None
              or any(e.type == MessageEntity.TEXT_MENTION for e in entities))
    return Addressing(stripped, mentions_bot, others)

