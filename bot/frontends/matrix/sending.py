"""Sending to a Matrix room: HTML with a plain body, long texts split, files through the
media repository, buttons as reactions, and retries on M_LIMIT_EXCEEDED.

The core writes Telegram-flavoured HTML (<b>, <i>, <code>, <pre>, <a>, line breaks as
"\\n"). Matrix clients render `formatted_body` as HTML, where a bare newline is only a
space, so line breaks become <br> (not inside <pre>); `body` is the same text without
tags, for clients and notifications that show plain text.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import mimetypes
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from nio import AsyncClient, ErrorResponse, RoomSendResponse, UploadResponse

from bot.messages import Attachment, Button, Frontend, Reply
from bot.render.format import split_message
from workflows.ids import ChatId, MessageId

log = logging.getLogger(__name__)
R = TypeVar("R")

# Per message, counted as the core counts (UTF-16 code units of the HTML). Synapse takes
# events up to 65,536 bytes of JSON; the HTML goes in twice (formatted and plain), and a
# non-ASCII character may take six bytes as a JSON escape: parts that would still be too
# large are halved again (`_fits`).
MATRIX_LIMIT = 16_000
# Buttons are reactions or a reply naming them (see client.py).
MATRIX = Frontend("matrix", max_length=MATRIX_LIMIT)
MAX_EVENT_BYTES = 60_000
MAX_ATTEMPTS = 8  # tries of one request on M_LIMIT_EXCEEDED before giving up
DEFAULT_RETRY_MS = 1_000  # when the homeserver names no wait
BUTTONS_KEY = "de.apbot.buttons"  # in our own messages: which reaction means which button

# Reactions standing for the core's buttons: by label where it is a known one, else by
# position (1️⃣, 2️⃣, …).
REACTION_FOR_LABEL = {"Rückgängig": "↩️", "Übernehmen": "✅", "Verwerfen": "❌"}
NUMBERED = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")


class MatrixSendError(Exception):
    """The homeserver refused a request (not a rate limit), or kept limiting it."""

    def __init__(self, what: str, response: ErrorResponse) -> None:
        super().__init__(f"{what}: {response.status_code} {response.message}")
        self.status_code = response.status_code
        self.response = response


async def with_retry(what: str, request: Callable[[], Awaitable[R]],
                     attempts: int = MAX_ATTEMPTS) -> R:
    """`request` again after M_LIMIT_EXCEEDED, waiting the `retry_after_ms` it names.

    Other error answers raise MatrixSendError at once: the request itself is wrong. A
    message is sent with one transaction id across its tries, so a try whose answer was
    lost does not post it twice (the homeserver recognises the id).
    """
    for attempt in range(1, attempts + 1):
        response = await request()
        if not isinstance(response, ErrorResponse):
            return response
        if response.status_code != "M_LIMIT_EXCEEDED" or attempt == attempts:
            raise MatrixSendError(what, response)
        wait_ms = response.retry_after_ms or DEFAULT_RETRY_MS
        log.warning("%s: M_LIMIT_EXCEEDED, trying again in %d ms", what, wait_ms)
        await asyncio.sleep(wait_ms / 1000)
    raise AssertionError("unreachable")


# -- HTML and plain text ----------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)


def to_html(text: str) -> str:
    """The core's HTML as Matrix HTML: line breaks as <br> outside <pre>."""
    pieces = _PRE.split(text)
    return "".join(piece if piece.startswith("<pre>") else piece.replace("\n", "<br>\n")
                   for piece in pieces)


def to_plain(text: str) -> str:
    """The core's HTML without tags, entities resolved: `body` for plain-text clients."""
    with_links = re.sub(r'<a href="([^"]*)">(.*?)</a>',
                        lambda m: m.group(2) if m.group(2) == m.group(1)
                        else f"{m.group(2)} ({m.group(1)})", text, flags=re.DOTALL)
    return html.unescape(_TAG.sub("", with_links))


def reaction_keys(buttons: Sequence[Button]) -> list[str]:
    """The reaction standing for each button, in order; never the same one twice."""
    keys: list[str] = []
    for i, button in enumerate(buttons):
        key = REACTION_FOR_LABEL.get(button.label, NUMBERED[i % len(NUMBERED)])
        keys.append(key if key not in keys else NUMBERED[i % len(NUMBERED)])
    return keys


def button_hint(buttons: Sequence[Button]) -> str:
    """The line under a message with buttons: which reaction does what."""
    keys = reaction_keys(buttons)
    choices = " · ".join(f"{key} {html.escape(b.label, quote=False)}"
                         for key, b in zip(keys, buttons, strict=True))
    return f"<i>Per Reaktion: {choices}</i>"


def text_content(text: str, buttons: Sequence[Button] = (), msgtype: str = "m.text",
                 reply_to: MessageId | None = None) -> dict[str, Any]:
    """An m.room.message with formatted and plain body (and our buttons, when given)."""
    if buttons:
        text = f"{text}\n{button_hint(buttons)}"
    content: dict[str, Any] = {"msgtype": msgtype, "body": to_plain(text),
                               "format": "org.matrix.custom.html",
                               "formatted_body": to_html(text)}
    if buttons:
        content[BUTTONS_KEY] = [{"key": key, "label": b.label, "data": b.data}
                                for key, b in zip(reaction_keys(buttons), buttons, strict=True)]
    if reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


def edit_content(event_id: MessageId, text: str, msgtype: str = "m.text") -> dict[str, Any]:
    """An edit (m.replace) of our message `event_id`: its new text, without buttons."""
    new = text_content(text, msgtype=msgtype)
    return {**{k: v for k, v in new.items()}, "body": "* " + new["body"],
            "formatted_body": "* " + new["formatted_body"], "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}}


def _fits(text: str) -> bool:
    size = len(json.dumps(text_content(text, ())))
    return size <= MAX_EVENT_BYTES


def split_text(text: str, limit: int = MATRIX_LIMIT) -> list[str]:
    """Parts of at most `limit` units that also fit into one event, in order."""
    parts: list[str] = []
    for part in split_message(text, limit):
        if _fits(part) or limit < 200:
            parts.append(part)
        else:
            parts += split_text(part, limit // 2)
    return parts


# -- sending ----------------------------------------------------------------------------


class Sender:
    """Everything the front-end sends, through one client."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def send(self, room_id: ChatId, content: dict[str, Any],
                   event_type: str = "m.room.message") -> MessageId:
        """One event, retried on rate limits with the same transaction id; its event id."""
        txn = str(uuid.uuid4())
        response = await with_retry(
            f"sending to {room_id}",
            lambda: self.client.room_send(str(room_id), event_type, content, tx_id=txn))
        assert isinstance(response, RoomSendResponse)
        return str(response.event_id)

    async def text(self, room_id: ChatId, text: str, buttons: Sequence[Button] = (),
                   msgtype: str = "m.text", reply_to: MessageId | None = None) -> list[MessageId]:
        """A text in as many parts as it needs; buttons with the first, as reactions."""
        sent = []
        for i, part in enumerate(split_text(text)):
            own = tuple(buttons) if i == 0 else ()
            event_id = await self.send(room_id, text_content(part, own, msgtype,
                                                             reply_to if i == 0 else None))
            sent.append(event_id)
            for key in reaction_keys(own):
                # Our own reaction under the message: the team only has to click it.
                await self.send(room_id, {"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": event_id, "key": key}},
                    "m.reaction")
        return sent

    async def reply(self, room_id: ChatId, reply: Reply,
                    reply_to: MessageId | None = None) -> None:
        """One of the core's replies: a text (with buttons) or a file."""
        if reply.attachment is not None:
            await self.file(room_id, reply.attachment, reply_to)
        else:
            await self.text(room_id, reply.text, reply.buttons, reply_to=reply_to)

    async def edit(self, room_id: ChatId, event_id: MessageId, text: str) -> None:
        await self.send(room_id, edit_content(event_id, text))

    async def file(self, room_id: ChatId, file: Attachment,
                   reply_to: MessageId | None = None) -> None:
        """Upload to the media repository, then m.image or m.file; the text if that fails."""
        try:
            data = await asyncio.to_thread(lambda: file.data)  # a chart takes a while to draw
        except Exception:
            if not file.fallback_text:
                raise
            log.exception("rendering %s failed; sending the text instead", file.filename)
            await self.text(room_id, file.fallback_text, reply_to=reply_to)
            return
        mimetype = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        try:
            uri = await self._upload(data, mimetype, file.filename)
            content = file_content(file, data, mimetype, uri)
            if reply_to is not None:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
            await self.send(room_id, content)
        except MatrixSendError as err:
            if not file.fallback_text:
                raise
            log.warning("sending %s failed (%s); sending the text instead", file.filename, err)
            await self.text(room_id, file.fallback_text, reply_to=reply_to)

    async def _upload(self, data: bytes, mimetype: str, filename: str) -> str:
        def provider(got_429: int, got_timeouts: int) -> io.BytesIO:
            return io.BytesIO(data)  # each try reads the file from its start

        async def once() -> UploadResponse | ErrorResponse:
            response, _keys = await self.client.upload(provider, content_type=mimetype,
                                                       filename=filename, filesize=len(data))
            return response
        response = await with_retry(f"uploading {filename}", once)
        assert isinstance(response, UploadResponse)
        return str(response.content_uri)


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header (for m.image's info), else None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def file_content(file: Attachment, data: bytes, mimetype: str, uri: str) -> dict[str, Any]:
    """m.image for a picture, else m.file; the caption as the body (Matrix 1.10 captions:
    `filename` names the file, `body` says what it is)."""
    info: dict[str, Any] = {"mimetype": mimetype, "size": len(data)}
    size = png_size(data) if file.kind == "photo" else None
    if size is not None:
        info["w"], info["h"] = size
    content: dict[str, Any] = {"msgtype": "m.image" if size is not None else "m.file",
                               "url": uri, "filename": file.filename, "info": info,
                               "body": to_plain(file.caption) or file.filename}
    if file.caption:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = to_html(file.caption)
    return content


class MatrixPublisher:
    """The automatic posts' sending (workflows/schedule.py's Publisher), as m.notice:
    messages nobody asked for, which other bots must not answer."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    def split(self, message: str) -> list[str]:
        return split_text(message)

    async def publish(self, chat_id: ChatId, part: str) -> None:
        await self.sender.send(chat_id, text_content(part, msgtype="m.notice"))
