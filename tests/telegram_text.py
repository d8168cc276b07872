"""Messages as the Telegram front-end hands them to the core ("@apbot …", "/cmd@apbot")."""

from __future__ import annotations

from typing import Any

from bot.frontends.telegram.addressing import read_addressing

BOT_NAME = "apbot_test_bot"


def telegram_fields(text: str, username: str = BOT_NAME) -> dict[str, Any]:
    """`text` and its mention flags as `Incoming` fields, the way Telegram's front-end
    reads a message to the bot @`username`; a command for another bot is an AssertionError."""
    read = read_addressing(text, username)
    assert read is not None, f"{text!r} is for another bot"
    return {"text": read.text, "mentions_bot": read.mentions_bot,
            "mentions_other": read.mentions_other}
