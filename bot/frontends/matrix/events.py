"""Reading Matrix room events: what a message says, whom it addresses, what it edits.

Pure functions over the event JSON (as the homeserver sends it), so they are tested
without a homeserver; the client (`bot.frontends.matrix.client`) fetches what they need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.frontends.mentions import take_out
from workflows.ids import MessageId

# Matrix clients such as Element keep "/status" for their own commands: "!status" is
# the same command.
_BANG_COMMAND = re.compile(r"!([A-Za-z_äöüÄÖÜß]+)")
_MX_REPLY = re.compile(r"<mx-reply>.*?</mx-reply>", re.DOTALL)
_PILL = re.compile(r"matrix\.to/#/(@[^\"'?<>\s]+)")
FILE_TYPES = ("m.file", "m.image", "m.video", "m.audio")
TEXT_TYPES = ("m.text", "m.emote", *FILE_TYPES)  # m.notice is other bots' talk: not read


@dataclass(frozen=True)
class Message:
    """What a room message event says, before it is known who the people are."""

    event_id: MessageId
    sender: str
    text: str
    message_id: MessageId  # the event it is about: itself, or the one an edit replaces
    edited: bool = False
    reply_to: MessageId | None = None
    mentions_me: bool = False  # the bot's own name is taken out of `text`
    mentions_other: bool = False
    file_name: str | None = None
    file_url: str | None = None
    file_size: int | None = None
    age_ms: int = 0


def _strip_reply_fallback(body: str) -> str:
    """The quoted lines ("> <@anna:server> …") older clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def localpart(user_id: str) -> str:
    """ "@anna:stadt.de" → "anna": the name a member is @-named by in the team's texts."""
    return user_id[1:].partition(":")[0] if user_id.startswith("@") else user_id


def replied_text(event: dict[str, Any]) -> str | None:
    """The text of a message someone replied to (as it was first sent)."""
    content = event.get("content")
    body = content.get("body") if isinstance(content, dict) else None
    return _strip_reply_fallback(body) if isinstance(body, str) else None


def as_command(text: str) -> str:
    """ "!status AP3" → "/status AP3"; anything else unchanged."""
    stripped = text.lstrip()
    if _BANG_COMMAND.match(stripped):
        return "/" + stripped[1:]
    return text


def _mentions(content: dict[str, Any], me: str) -> bool:
    """Addressed by name: m.mentions, a pill (link to matrix.to/#/@me), or the id."""
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict) and me in (mentions.get("user_ids") or []):
        return True
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and f"matrix.to/#/{me}" in _MX_REPLY.sub("", formatted):
        return True
    body = content.get("body")
    return isinstance(body, str) and me in body


def _mentions_other(content: dict[str, Any], me: str) -> bool:
    """Someone else named: in m.mentions or as a pill to another user."""
    mentions = content.get("m.mentions")
    if isinstance(mentions, dict) and set(mentions.get("user_ids") or []) - {me}:
        return True
    formatted = content.get("formatted_body")
    if not isinstance(formatted, str):
        return False
    return any(user != me for user in _PILL.findall(_MX_REPLY.sub("", formatted)))


def _without_my_name(text: str, names: tuple[str, ...], me: str) -> str:
    """ "apbot: Status AP3" (how Element writes a pill at the start) → "Status AP3"; the
    bot's full id elsewhere in the text is taken out as well."""
    for name in sorted(filter(None, names), key=len, reverse=True):
        if text.lower().startswith(name.lower()) and text[len(name):][:1] in (":", ",", " ", ""):
            text = text[len(name):].lstrip(":, ")
            break
    return take_out(text, re.escape(me)) if me in text else text


def read_message(event: dict[str, Any], me: str, my_names: tuple[str, ...] = ()
                 ) -> Message | None:
    """The message in an m.room.message event; None for what is not the team's talk.

    `me` is the bot's user id (@apbot:server); `my_names` the names it goes by in the
    room (display name, localpart), which a mention at the start of a text may show.
    """
    if event.get("type") != "m.room.message" or event.get("sender") == me:
        return None
    content = event.get("content")
    if not isinstance(content, dict):
        return None
    relates = content.get("m.relates_to") if isinstance(content.get("m.relates_to"),
                                                        dict) else {}
    assert isinstance(relates, dict)
    edited = relates.get("rel_type") == "m.replace" and isinstance(relates.get("event_id"), str)
    if edited:
        new = content.get("m.new_content")
        if not isinstance(new, dict):
            return None
        content = {**new, "m.mentions": content.get("m.mentions", new.get("m.mentions"))}
    msgtype = content.get("msgtype")
    body = content.get("body")
    if msgtype not in TEXT_TYPES or not isinstance(body, str):
        return None
    in_reply = relates.get("m.in_reply_to")
    reply_to = in_reply.get("event_id") if isinstance(in_reply, dict) else None
    file_name = file_url = None
    file_size = None
    if msgtype in FILE_TYPES:
        file_name = content.get("filename") if isinstance(content.get("filename"), str) else body
        url = content.get("url")
        file_url = url if isinstance(url, str) else None
        info = content.get("info")
        if isinstance(info, dict) and isinstance(info.get("size"), int):
            file_size = info["size"]
        # Matrix 1.10: with a `filename`, the body is a caption; without, it is the name.
        text = body if content.get("filename") and body != file_name else ""
    else:
        text = _strip_reply_fallback(body) if reply_to else body
    mentioned = _mentions(content, me)
    if mentioned:
        text = _without_my_name(text, (*my_names, me, me[1:].partition(":")[0]), me)
    unsigned = event.get("unsigned")
    age = unsigned.get("age") if isinstance(unsigned, dict) else None
    event_id = str(event.get("event_id", ""))
    return Message(
        event_id=event_id,
        sender=str(event.get("sender", "")),
        text=as_command(text),
        message_id=str(relates["event_id"]) if edited else event_id,
        edited=edited,
        reply_to=str(reply_to) if isinstance(reply_to, str) else None,
        mentions_me=mentioned,
        mentions_other=_mentions_other(content, me),
        file_name=file_name,
        file_url=file_url,
        file_size=file_size,
        age_ms=age if isinstance(age, int) and age >= 0 else 0,
    )


@dataclass(frozen=True)
class Reaction:
    event_id: MessageId
    sender: str
    target: MessageId
    key: str


def read_reaction(event: dict[str, Any], me: str) -> Reaction | None:
    """A reaction (m.annotation) of someone else; None otherwise."""
    if event.get("type") != "m.reaction" or event.get("sender") == me:
        return None
    content = event.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
        return None
    target, key = relates.get("event_id"), relates.get("key")
    if not isinstance(target, str) or not isinstance(key, str):
        return None
    return Reaction(str(event.get("event_id", "")), str(event.get("sender", "")), target, key)


def button_data(event: dict[str, Any], me: str, key: str) -> str | None:
    """The button a reaction `key` (or a reply naming its label or number) stands for in
    our own message `event`; None when the message is not ours or has no such button."""
    from bot.frontends.matrix.sending import BUTTONS_KEY

    if event.get("sender") != me:
        return None
    content = event.get("content")
    buttons = content.get(BUTTONS_KEY) if isinstance(content, dict) else None
    if not isinstance(buttons, list):
        return None
    wanted = key.strip().lower().rstrip(".!")
    for number, button in enumerate(buttons, start=1):
        if not isinstance(button, dict) or not isinstance(button.get("data"), str):
            continue
        names = {str(button.get("key", "")).replace("\ufe0f", ""),
                 str(button.get("label", "")).lower(), str(number)}
        if wanted.replace("\ufe0f", "") in names:
            return str(button["data"])
    return None


def read_tombstone(event: dict[str, Any]) -> str | None:
    """The room an upgraded room continues in: `replacement_room` of an m.room.tombstone
    state event; None for any other event (or a tombstone without a room id)."""
    if event.get("type") != "m.room.tombstone" or event.get("state_key") != "":
        return None
    content = event.get("content")
    replacement = content.get("replacement_room") if isinstance(content, dict) else None
    if not isinstance(replacement, str) or not replacement.startswith("!"):
        return None
    return replacement
