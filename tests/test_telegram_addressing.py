"""How Telegram's ways of addressing apbot reach the core: "/cmd@apbot", "@apbot …"."""

from __future__ import annotations

import pytest
from telegram import MessageEntity, User

from bot.frontends.telegram.addressing import Addressing, read_addressing

BOT = "apbot_test_bot"


@pytest.mark.parametrize(("text", "command"), [
    (f"/status@{BOT} AP3", "/status AP3"),
    ("/status@APBOT_TEST_BOT AP3", "/status AP3"),
    (f"/status@{BOT}\nAP3", "/status\nAP3"),
    ("/status AP3", "/status AP3"),
    (f"  /plan@{BOT}", "/plan"),
])
def test_a_command_for_this_bot_comes_without_its_name(text: str, command: str) -> None:
    assert read_addressing(text, BOT) == Addressing(command)


@pytest.mark.parametrize("username", [BOT, None])
def test_a_command_for_another_bot_is_nobodys(username: str | None) -> None:
    assert read_addressing("/status@otherbot AP3", username) is None
    assert read_addressing(f"/status@{BOT}x AP3", username) is None


@pytest.mark.parametrize(("text", "core_text"), [
    (f"@{BOT} Status AP 11", "Status AP 11"),
    (f"Wann ist die nächste BiKo, @{BOT}?", "Wann ist die nächste BiKo?"),
    (f"Wann ist die nächste BiKo, @{BOT.upper()}?", "Wann ist die nächste BiKo?"),
    (f"Hallo @{BOT}, wie weit ist AP3?", "Hallo wie weit ist AP3?"),
    (f"@{BOT}: AP 11: Datenbasis erweitert, 40 %", "AP 11: Datenbasis erweitert, 40 %"),
    (f"AP3: 60 %\nDanke @{BOT}\nund weiter", "AP3: 60 %\nDanke\nund weiter"),
])
def test_a_mention_marks_the_message_and_is_taken_out(text: str, core_text: str) -> None:
    assert read_addressing(text, BOT) == Addressing(core_text, mentions_bot=True)


@pytest.mark.parametrize("text", [f"Mail an info@{BOT}.de", f"@{BOT}s Bruder", "Guten Morgen"])
def test_what_only_looks_like_our_name_is_no_mention(text: str) -> None:
    read = read_addressing(text, BOT)
    assert read is not None and not read.mentions_bot and read.text == text


def test_naming_someone_else_is_marked() -> None:
    assert read_addressing("@anna wann ist die BiKo?", BOT) == Addressing(
        "@anna wann ist die BiKo?", mentions_other=True)
    # A member without an @name is named by a link: a text_mention entity.
    anna = User(7, "Anna", is_bot=False)
    linked = read_addressing("Anna, wann ist die BiKo?", BOT,
                             [MessageEntity(MessageEntity.TEXT_MENTION, 0, 4, user=anna)])
    assert linked == Addressing("Anna, wann ist die BiKo?", mentions_other=True)
    assert read_addressing("Wann ist die BiKo?", None) == Addressing("Wann ist die BiKo?")
