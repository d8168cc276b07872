"""A local fake of the Telegram Bot API, served over HTTP on 127.0.0.1.

End-to-end tests start the real bot process with
``TELEGRAM_API_BASE_URL=<api.base_url>``; python-telegram-bot then POSTs every
request to ``<base_url><TOKEN>/<method>``. The fake answers a useful subset of
the Bot API with realistic payloads, records every call, lets tests inject
updates (served via long-polling ``getUpdates``) and can script failures
(429 flood control, 5xx gateway errors, dropped connections, permanent
rejections).

Only the standard library is used: a ``ThreadingHTTPServer`` runs in a
background thread and one ``threading.Condition`` guards all shared state, so
tests can block on it (``wait_for``) instead of sleeping.

Wire format notes (python-telegram-bot 22 with the httpx backend; apbot's aiohttp transport,
`bot/frontends/telegram/transport.py`, writes the same):

* Without files, the request body is ``application/x-www-form-urlencoded``.
  Every value is a string: ``str`` values are sent verbatim, everything else
  (ints, bools, lists, dicts) is JSON-encoded. ``text="123"`` and
  ``chat_id=123`` therefore look identical on the wire, so only known
  structured/numeric/boolean fields are decoded.
* With files, the body is ``multipart/form-data``: plain parameters are parts
  without ``filename`` and without ``Content-Type``; file parts carry both.
  httpx escapes ``"`` as ``%22`` and ``\\`` as ``\\\\`` inside the quoted
  ``filename``/``name`` values and writes non-ASCII names as raw UTF-8.
* Requests without any parameter (``getMe``) have an empty body.

Example::

    with FakeBotAPI() as api:
        start_bot(env={"TELEGRAM_API_BASE_URL": api.base_url, ...})
        api.wait_until_polling()
        api.push_message("/start", chat_type="private")
        call = api.wait_for("sendMessage")[0]

Timing (for benchmarks): ``Call.received`` is when a request reached the fake and
``delivered_at(update_id)`` when ``getUpdates`` handed an update out, both read
from ``time.perf_counter()`` in this process, so they can be subtracted;
``wait_for_reply(update)`` finds the bot's answer to a pushed message.
"""

from __future__ import annotations

import contextlib
import copy
import html
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, unquote, urlsplit

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-token"
BOT_ID = 999000
DEFAULT_GROUP_ID = -100123

# Parameters whose string value is JSON (lists/objects) when sent form-encoded.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "scope",
        "media",
        "results",
        "options",
        "permissions",
        "reaction",
        "explanation_entities",
        "question_entities",
        "prices",
    }
)
# Parameters that are integers on the Bot API side (chat_id may also be "@name").
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "until_date",
        "duration",
        "width",
        "height",
        "max_connections",
    }
)
# Parameters that are booleans (JSON-encoded as "true"/"false").
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "drop_pending_updates",
        "show_alert",
        "has_spoiler",
        "show_caption_above_media",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "is_anonymous",
        "only_if_banned",
        "revoke_messages",
    }
)
_INT_RE = re.compile(r"-?\d+\Z")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_UPDATE_TYPES_WITH_MESSAGE = ("message", "edited_message", "channel_post", "edited_channel_post")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_TAG_NAME_RE = re.compile(r"<([A-Za-z0-9-]*)")
_HTML_START_TAG_RE = re.compile(
    r"""<([A-Za-z0-9-]*)((?:\s+[^\s=>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>"""
)
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}\Z")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a ``multipart/form-data`` request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        """Size of the uploaded content in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class Call:
    """One recorded Bot API request and how the fake answered it.

    ``status`` is the HTTP status sent (0 if the connection was dropped),
    ``result`` the ``result`` field of a successful answer and ``error`` the
    ``description`` of a failed one. Multipart file parts are in ``files``, not
    in ``params``. Treat ``params`` as read-only. ``time`` is the wall-clock
    time (``time.time()``) the request arrived; ``received`` the same moment
    on ``time.perf_counter()``, the clock of ``FakeBotAPI.delivered_at``.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float
    status: int = 200
    result: Any = None
    error: str | None = None
    content_type: str = ""
    received: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the fake answered with a successful response."""
        return 200 <= self.status < 300

    @property
    def quoted_message_id(self) -> int | None:
        """The message this send quotes (``reply_parameters`` or ``reply_to_message_id``)."""
        reply = self.params.get("reply_parameters")
        quoted = reply.get("message_id") if isinstance(reply, dict) else None
        if quoted is None:
            quoted = self.params.get("reply_to_message_id")
        return quoted if isinstance(quoted, int) and not isinstance(quoted, bool) else None

    def answers(self, update: JSONDict) -> bool:
        """Whether this successful ``sendMessage`` is the bot's reply to ``update``'s message.

        A reply goes to the message's chat and, in groups, quotes it; in a private
        chat an unquoted message counts as well (callers look only at messages
        sent after the update was delivered, see ``FakeBotAPI.wait_for_reply``).
        """
        message = next(
            (update[k] for k in _UPDATE_TYPES_WITH_MESSAGE if isinstance(update.get(k), dict)),
            None,
        )
        if message is None or self.method.lower() != "sendmessage" or not self.ok:
            return False
        chat = message.get("chat", {})
        if str(self.params.get("chat_id")) != str(chat.get("id")):
            return False
        quoted = self.quoted_message_id
        if quoted is not None:
            return bool(quoted == message.get("message_id"))
        return bool(chat.get("type") == "private")


class ApiError(Exception):
    """A Bot API error answer (raised inside method implementations)."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: JSONDict | None = None,
        *,
        html_body: bool = False,
    ) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.html_body = html_body


@dataclass
class _Fault:
    """A scripted failure for one method (``remaining=None`` means permanent)."""

    method: str
    kind: Literal["error", "drop"]
    error_code: int = 400
    description: str = ""
    parameters: JSONDict | None = None
    html_body: bool = False
    remaining: int | None = 1
    chat_id: str | None = None

    def applies_to(self, params: JSONDict) -> bool:
        """Whether this fault matches a request with ``params``."""
        return self.chat_id is None or str(params.get("chat_id")) == self.chat_id


@dataclass
class _ParsedRequest:
    params: JSONDict = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing


def _coerce(name: str, value: Any) -> Any:
    """Decode a string parameter value into its Bot API type where it is unambiguous."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if name in _JSON_FIELDS and stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value  # keep raw; the method implementation reports the error
    if name in _INT_FIELDS and _INT_RE.match(stripped):
        return int(stripped)
    if name in _BOOL_FIELDS and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    return value


def _parse_header(value: str) -> tuple[str, dict[str, str]]:
    """Split a header like ``form-data; name="x"; filename="y"`` into value and params."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in re.finditer(r'\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)\s*;?', rest):
        key = match.group(1).lower()
        raw = match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            # httpx (HTML5 form encoding) percent-escapes '"' and control characters.
            raw = re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m.group(1), 16)), raw)
        if key.endswith("*"):  # RFC 5987: filename*=utf-8''na%C3%AFve.txt
            charset, _, encoded = raw.partition("''")
            key, raw = key[:-1], unquote(encoded, encoding=charset or "utf-8")
        params.setdefault(key, raw)
    return main.strip().lower(), params


def _parse_multipart(body: bytes, boundary: str) -> _ParsedRequest:
    """Parse a ``multipart/form-data`` body into text parameters and file parts."""
    result = _ParsedRequest()
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    sections = (b"\r\n" + body).split(delimiter)
    for section in sections[1:]:
        if section.startswith(b"--"):
            break  # closing delimiter
        _, _, part = section.partition(b"\r\n")  # rest of the delimiter line
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed multipart part (no header/body separator)")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            header, _, val = line.partition(":")
            headers[header.strip().lower()] = val.strip()
        _, disposition = _parse_header(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            raise ValueError("multipart part without a name")
        content_type = headers.get("content-type")
        if "filename" in disposition or content_type is not None:
            result.files[name] = UploadedFile(
                field=name,
                filename=disposition.get("filename"),
                content_type=content_type,
                data=content,
            )
        else:
            result.params[name] = _coerce(name, content.decode("utf-8"))
    return result


def parse_request_body(content_type: str, body: bytes, query: str = "") -> _ParsedRequest:
    """Parse a Bot API request (query string plus body in any of the three encodings)."""
    result = _ParsedRequest()
    for key, value in parse_qsl(query, keep_blank_values=True):
        result.params[key] = _coerce(key, value)
    mime, header_params = _parse_header(content_type or "")
    if not body:
        return result
    if mime == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        result.params.update({key: _coerce(key, value) for key, value in data.items()})
    elif mime == "multipart/form-data":
        boundary = header_params.get("boundary")
        if not boundary:
            raise ValueError("multipart body without boundary")
        parsed = _parse_multipart(body, boundary)
        result.params.update(parsed.params)
        result.files.update(parsed.files)
    else:  # application/x-www-form-urlencoded (also the fallback)
        text = body.decode("utf-8")
        for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=False):
            result.params[key] = _coerce(key, value)
    return result


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html_text(text: str) -> str:
    """Validate Telegram-style HTML and return the plain text, like the real API.

    Raises ``ApiError`` with Telegram's wording for unsupported or unbalanced tags.
    Unknown ``&...;`` sequences and bare ``&``/``>`` are kept as text (as Telegram does).
    """
    out: list[str] = []
    stack: list[str] = []
    i = 0
    prefix = "Bad Request: can't parse entities: "
    while i < len(text):
        char = text[i]
        offset = len(text[:i].encode("utf-8"))
        if char == "<":
            if text.startswith("</", i):
                end = text.find(">", i)
                if end == -1:
                    raise ApiError(
                        400, f"{prefix}Can't find end of the tag at byte offset {offset}"
                    )
                name = text[i + 2 : end].strip().lower()
                if not stack:
                    raise ApiError(400, f"{prefix}Unexpected end tag at byte offset {offset}")
                if stack[-1] != name:
                    raise ApiError(
                        400,
                        f"{prefix}Unmatched end tag at byte offset {offset}, expected "
                        f'"</{stack[-1]}>", found "</{name}>"',
                    )
                stack.pop()
                i = end + 1
                continue
            name_match = _HTML_TAG_NAME_RE.match(text, i)
            name = name_match.group(1) if name_match else ""
            if name.lower() not in _HTML_TAGS:
                raise ApiError(
                    400, f'{prefix}Unsupported start tag "{name}" at byte offset {offset}'
                )
            match = _HTML_START_TAG_RE.match(text, i)
            if match is None:
                raise ApiError(400, f"{prefix}Can't find end of the tag at byte offset {offset}")
            if name.lower() == "span" and "tg-spoiler" not in match.group(2):
                raise ApiError(
                    400, f'{prefix}Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                )
            stack.append(name.lower())
            i = match.end()
            continue
        if char == "&":
            entity = _HTML_ENTITY_RE.match(text, i)
            if entity:
                out.append(html.unescape(entity.group(0)))
                i = entity.end()
                continue
        out.append(char)
        i += 1
    if stack:
        raise ApiError(400, f'{prefix}Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """HTTP server that tracks its connections so ``close()`` can end them promptly."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeBotAPI) -> None:
        self.fake = fake
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Handle each connection in its own (tracked) daemon thread."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fake-bot-api-connection",
            daemon=True,
        )
        with self._conn_lock:
            self._connections.add(request)
            self._conn_threads = {t for t in self._conn_threads if t.is_alive()}
            self._conn_threads.add(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay silent about client disconnects and similar socket errors."""

    def close_connections(self, join_timeout: float) -> None:
        """Shut down all open client sockets and wait (bounded) for their threads."""
        with self._conn_lock:
            connections = list(self._connections)
            threads = list(self._conn_threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + join_timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to ``FakeBotAPI._handle``."""

    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    # Headers and body are written separately; without TCP_NODELAY, Nagle plus delayed
    # ACKs add ~40 ms to every request on loopback.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        """Handle POST requests (what PTB uses)."""
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        """Handle GET requests (the Bot API accepts them too)."""
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked transfer encoding)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        """Write a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.server.fake.closed:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def drop(self) -> None:
        """Close the connection without sending any response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- the fake


class FakeBotAPI:
    """In-process fake Telegram Bot API server for tests.

    All public methods are thread-safe. Method names are matched
    case-insensitively, as by the real Bot API.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "apbot_test_bot",
        can_read_all_group_messages: bool = False,
        admin_ids: Iterable[int] = (),
        max_poll_wait: float = 2.0,
        validate_html: bool = True,
        strict_messages: bool = True,
        group_title: str = "Test Group",
        host: str = "127.0.0.1",
    ) -> None:
        """Start serving immediately on ``host`` and a free port.

        ``max_poll_wait`` caps how long ``getUpdates`` long-polls (so shutdown is
        fast); ``validate_html`` rejects malformed ``parse_mode=HTML`` text like
        Telegram; ``strict_messages`` makes edits/deletes/replies of unknown
        messages fail with Telegram's errors instead of being accepted.
        """
        self.token = token
        self.username = username
        self.can_read_all_group_messages = can_read_all_group_messages
        self.max_poll_wait = max_poll_wait
        self.validate_html = validate_html
        self.strict_messages = strict_messages
        self.group_title = group_title

        self._cond = threading.Condition(threading.RLock())
        self._closed = False
        self._calls: list[Call] = []
        self._unauthorized: list[str] = []
        self._internal_errors: list[str] = []
        self._updates: list[JSONDict] = []
        self._next_update_id = 10_000_001
        self._delivered_up_to = 0
        # update_id → (perf_counter when first handed out, number of calls recorded then)
        self._delivered: dict[int, tuple[float, int]] = {}
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._pollers_waiting = 0
        self._next_msg_id = 1
        self._messages: dict[tuple[str, int], JSONDict] = {}
        self._bot_message_keys: set[tuple[str, int]] = set()
        self._callback_ids = itertools.count(7_000_000_001)
        self._open_callback_queries: set[str] = set()
        self._file_ids = itertools.count(1)
        self._users: dict[int, JSONDict] = {}
        self._chat_titles: dict[int, str] = {}
        self._admin_ids: set[int] = set(admin_ids)
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._faults: list[_Fault] = []
        self._clock_offset = 0.0  # see set_clock
        self._in_flight = 0  # requests being answered (see _serve)
        self._user_files: dict[str, bytes] = {}  # file_id → bytes (documents users send)
        # chat id → users in it: whoever wrote there, or was added (getChatMember)
        self._chat_members: dict[str, set[int]] = {}
        self._unknown_chats: set[str] = set()  # getChat: "chat not found" (see remove_chat)
        self._migrated: dict[str, int] = {}  # group → the supergroup it became (migrate_chat)
        self._webhook_url = ""  # see set_webhook

        self._methods: dict[str, Callable[[_ParsedRequest], Any]] = {
            "getme": self._m_get_me,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "setmycommands": self._m_set_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getmycommands": self._m_get_my_commands,
            "close": self._m_true,
            "logout": self._m_true,
            "getupdates": self._m_get_updates,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendphoto": self._m_send_photo,
            "senddocument": self._m_send_document,
            "sendchataction": self._m_send_chat_action,
            "getchat": self._m_get_chat,
            "getchatmember": self._m_get_chat_member,
            "getfile": self._m_get_file,
        }

        self._server = _Server((host, 0), self)
        self.port: int = self._server.server_address[1]
        self.host = host
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()

    # ----------------------------------------------------------------- the date

    def set_clock(self, moment: datetime) -> None:
        """Date messages from `moment` on (running on in real time), as the bot's clock."""
        with self._cond:
            self._clock_offset = moment.timestamp() - time.time()

    def now(self) -> float:
        """The time messages are dated with (Unix seconds)."""
        return time.time() + self._clock_offset

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """Value for ``TELEGRAM_API_BASE_URL`` / ``ApplicationBuilder.base_url``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    def close(self) -> None:
        """Stop serving: wake long polls, close all connections, join threads."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            deadline = time.monotonic() + 2.0
            while self._in_flight and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        self._server.shutdown()
        self._thread.join(5)
        self._server.close_connections(join_timeout=5)
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- bot identity

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a ``User`` dict (as it appears in ``from`` of its messages)."""
        return {"id": BOT_ID, "is_bot": True, "first_name": "apbot", "username": self.username}

    def set_admin(self, user_id: int, admin: bool = True) -> None:
        """Make ``getChatMember`` report ``user_id`` as administrator (or not)."""
        with self._cond:
            if admin:
                self._admin_ids.add(user_id)
            else:
                self._admin_ids.discard(user_id)

    def set_webhook(self, url: str) -> None:
        """A webhook is set (as another service with the same token would): getWebhookInfo
        shows it, getUpdates is refused with 409 until deleteWebhook."""
        with self._cond:
            self._webhook_url = url

    def remove_chat(self, chat_id: int) -> None:
        """The bot is not in `chat_id` (or it does not exist): getChat and getChatMember
        answer "chat not found", as Telegram does."""
        with self._cond:
            self._unknown_chats.add(str(chat_id))

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """The group `old_id` became the supergroup `new_id`: getChat and getChatMember for
        the old id answer 400 with ``migrate_to_chat_id``, as Telegram does; the bot's
        membership moves along."""
        with self._cond:
            self._migrated[str(old_id)] = new_id
            members = self._chat_members.get(str(old_id), set())
            self._chat_members.setdefault(str(new_id), set()).update(members)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands currently set via ``setMyCommands`` for a scope/language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    # ----------------------------------------------------------------- recorded calls

    def calls(self, method: str | None = None) -> list[Call]:
        """A copy of all recorded calls, optionally only those of ``method``."""
        with self._cond:
            return [c for c in self._calls if self._matches(c, method, None)]

    def clear_calls(self) -> None:
        """Forget all recorded calls."""
        with self._cond:
            self._calls.clear()
            # wait_for_reply looks for replies from these positions on
            self._delivered = {k: (t, 0) for k, (t, _) in self._delivered.items()}

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Params of successful ``sendMessage`` calls, optionally for one chat."""
        return [
            c.params
            for c in self.calls("sendMessage")
            if c.ok and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def last_message(self, chat_id: int | str | None = None) -> JSONDict:
        """Current state (edits applied) of the newest message the bot sent.

        Raises ``LookupError`` if the bot has not sent any message (to ``chat_id``).
        """
        with self._cond:
            keys = [
                key for key in self._bot_message_keys if chat_id is None or key[0] == str(chat_id)
            ]
            if not keys:
                raise LookupError(f"the bot has not sent any message to chat {chat_id}")
            return copy.deepcopy(self._messages[max(keys, key=lambda k: k[1])])

    @property
    def unauthorized_requests(self) -> list[str]:
        """Paths of requests that used a wrong token (answered with 401)."""
        with self._cond:
            return list(self._unauthorized)

    @property
    def internal_errors(self) -> list[str]:
        """Unexpected exceptions inside the fake (answered with HTTP 500)."""
        with self._cond:
            return list(self._internal_errors)

    def wait_for(
        self,
        method: str | None,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` (matching ``predicate``) exist.

        Returns all matching calls. Raises ``TimeoutError`` describing what was
        received instead.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [c for c in self._calls if self._matches(c, method, predicate)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        self._describe_timeout(method, count, timeout, predicate, len(matching))
                    )
                self._cond.wait(remaining)

    def wait_for_text(
        self, substring: str, chat_id: int | str | None = None, timeout: float = 10.0
    ) -> JSONDict:
        """Block until the bot successfully sent a message containing ``substring``.

        Returns the params of the first such ``sendMessage`` call.
        """

        def predicate(call: Call) -> bool:
            return (
                call.ok
                and substring in str(call.params.get("text", ""))
                and (chat_id is None or str(call.params.get("chat_id")) == str(chat_id))
            )

        try:
            return self.wait_for("sendMessage", 1, timeout, predicate)[0].params
        except TimeoutError as exc:
            raise TimeoutError(f"no message containing {substring!r}: {exc}") from None

    def wait_until_polling(self, timeout: float = 10.0) -> None:
        """Block until a ``getUpdates`` long poll is currently waiting for updates."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pollers_waiting == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no getUpdates long poll within {timeout}s; " + self._summary()
                    )
                self._cond.wait(remaining)

    def wait_until_delivered(self, timeout: float = 10.0) -> None:
        """Block until every pushed update has been returned by ``getUpdates``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(u["update_id"] > self._delivered_up_to for u in self._updates):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"pushed updates not fetched by getUpdates within {timeout}s; "
                        + self._summary()
                    )
                self._cond.wait(remaining)

    def delivered_at(self, update_id: int) -> float:
        """``time.perf_counter()`` when ``getUpdates`` first handed the update out.

        Raises ``LookupError`` if it has not been delivered (yet).
        """
        with self._cond:
            try:
                return self._delivered[int(update_id)][0]
            except KeyError:
                raise LookupError(f"update {update_id} has not been delivered") from None

    def wait_for_reply(self, update: JSONDict, timeout: float = 10.0) -> Call:
        """Block until the bot answered ``update`` (see ``Call.answers``); return that call.

        Only calls recorded after the update was handed out are considered, and each
        call is looked at once, so this stays cheap with many recorded calls.
        """
        update_id = int(update["update_id"])
        deadline = time.monotonic() + timeout
        with self._cond:
            position: int | None = None
            while True:
                if position is None and update_id in self._delivered:
                    position = self._delivered[update_id][1]
                if position is not None:
                    position = min(position, len(self._calls))  # calls may have been cleared
                    for call in self._calls[position:]:
                        if call.answers(update):
                            return call
                    position = len(self._calls)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    state = "delivered" if update_id in self._delivered else "not delivered"
                    raise TimeoutError(
                        f"no reply to update {update_id} ({state}) within {timeout}s; "
                        + self._summary()
                    )
                self._cond.wait(remaining)

    # ----------------------------------------------------------------- injecting updates

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw Update dict; ``update_id`` is assigned if missing. Returns a copy."""
        upd = copy.deepcopy(update)
        with self._cond:
            if "update_id" not in upd:
                upd["update_id"] = self._next_update_id
            upd["update_id"] = int(upd["update_id"])
            self._next_update_id = max(self._next_update_id, upd["update_id"] + 1)
            for key in _UPDATE_TYPES_WITH_MESSAGE:
                if isinstance(upd.get(key), dict):
                    self._remember_message(upd[key])
            query = upd.get("callback_query")
            if isinstance(query, dict) and "id" in query:
                self._open_callback_queries.add(str(query["id"]))
                if isinstance(query.get("message"), dict):
                    self._remember_message(query["message"], overwrite=False)
            self._updates.append(upd)
            self._updates.sort(key=lambda u: int(u["update_id"]))
            self._cond.notify_all()
            return copy.deepcopy(upd)

    def push_message(
        self,
        text: str | None,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        user_id: int = 1001,
        first_name: str = "Anna",
        last_name: str | None = None,
        username: str | None = None,
        message_id: int | None = None,
        is_bot: bool = False,
        entities: list[JSONDict] | None = None,
        reply_to_message: JSONDict | None = None,
        caption: str | None = None,
        photo: bool = False,
        forward_origin: JSONDict | None = None,
        edited: bool = False,
        date: int | None = None,
        *,
        chat_title: str | None = None,
        language_code: str | None = None,
        document: JSONDict | None = None,
    ) -> JSONDict:
        """Queue a user message (or an edit of one) and return the Update dict.

        ``document`` (from ``add_file``) attaches a file the user sends.

        ``chat_id`` defaults to ``user_id`` for private chats and to
        ``DEFAULT_GROUP_ID`` otherwise. Like Telegram, a leading ``/command``
        gets a ``bot_command`` entity unless ``entities`` is given. With
        ``photo=True`` the message carries a photo and ``text`` is used as the
        caption unless ``caption`` is given.
        """
        user = self._user_dict(user_id, first_name, last_name, username, is_bot, language_code)
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else DEFAULT_GROUP_ID
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": first_name}
            if last_name:
                chat["last_name"] = last_name
            if username:
                chat["username"] = username
        else:
            with self._cond:
                title = chat_title or self._chat_titles.get(chat_id, self.group_title)
                self._chat_titles[chat_id] = title
                self._chat_members.setdefault(str(chat_id), set()).add(user_id)
            chat = {"id": chat_id, "type": chat_type, "title": title}
        now = int(self.now())
        message: JSONDict = {
            "message_id": message_id if message_id is not None else self._next_message_id(),
            "from": user,
            "chat": chat,
            "date": date if date is not None else now,
        }
        if message_id is not None:
            self._bump_message_id(message_id)
        if edited:
            message["edit_date"] = now
        if forward_origin is not None:
            message["forward_origin"] = copy.deepcopy(forward_origin)
        if reply_to_message is not None:
            message["reply_to_message"] = copy.deepcopy(reply_to_message)
        if document is not None:
            message["document"] = copy.deepcopy(document)
        if photo:
            base = f"AgACPushed{next(self._file_ids)}"
            message["photo"] = [
                {
                    "file_id": f"{base}s",
                    "file_unique_id": f"{base}us",
                    "width": 90,
                    "height": 90,
                    "file_size": 1200,
                },
                {
                    "file_id": f"{base}m",
                    "file_unique_id": f"{base}um",
                    "width": 800,
                    "height": 800,
                    "file_size": 64000,
                },
            ]
            caption = caption if caption is not None else text
            text = None
        if text is not None:
            message["text"] = text
            ents = entities if entities is not None else self._command_entities(text)
            if ents:
                message["entities"] = ents
        if caption is not None:
            message["caption"] = caption
            ents = entities if entities is not None else self._command_entities(caption)
            if ents:
                message["caption_entities"] = ents
        return self.push_update({"edited_message" if edited else "message": message})

    def push_callback_query(
        self,
        data: str,
        message: JSONDict | int,
        user_id: int = 1001,
        first_name: str = "Anna",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Queue a callback query for a button press on ``message``; returns the Update.

        ``message`` is a Message dict or the id of a message the fake knows.
        """
        with self._cond:
            msg = self._resolve_message(message)
        user = self._user_dict(user_id, first_name, last_name, username, False, None)
        query = {
            "id": str(next(self._callback_ids)),
            "from": user,
            "message": msg,
            "chat_instance": f"ci{msg.get('chat', {}).get('id', 0)}",
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def click_button(
        self,
        message: JSONDict | int,
        text: str,
        user_id: int = 1001,
        first_name: str = "Anna",
        **kwargs: Any,
    ) -> JSONDict:
        """Press the inline button labelled ``text`` (exact, else unique substring match).

        Uses the current state of the message (after edits). Raises
        ``LookupError`` listing the available buttons if none matches.
        """
        with self._cond:
            msg = self._resolve_message(message)
        buttons = [
            button
            for row in msg.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        found = [b for b in buttons if b.get("text") == text] or [
            b for b in buttons if text in str(b.get("text"))
        ]
        if len(found) != 1 or "callback_data" not in found[0]:
            labels = [b.get("text") for b in buttons]
            raise LookupError(
                f"no unique callback button {text!r} on message {msg.get('message_id')}; "
                f"buttons: {labels}"
            )
        return self.push_callback_query(
            found[0]["callback_data"], msg, user_id, first_name, **kwargs
        )

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot (via a higher ``offset``)."""
        with self._cond:
            return copy.deepcopy(self._updates)

    # ----------------------------------------------------------------- scripted faults

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        *,
        chat_id: int | str | None = None,
        html_body: bool | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        429 answers include ``parameters.retry_after``. 502/504 answers use an
        nginx-style HTML body (like the real gateway) unless ``html_body=False``.
        ``chat_id`` restricts the fault to requests for that chat.
        """
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            )
        fault = _Fault(
            method=method.lower(),
            kind="error",
            error_code=error_code,
            description=description,
            parameters={"retry_after": retry_after} if error_code == 429 else None,
            html_body=error_code in (502, 504) if html_body is None else html_body,
            remaining=times,
            chat_id=None if chat_id is None else str(chat_id),
        )
        with self._cond:
            self._faults.append(fault)

    def drop_connections(self, method: str, times: int = 1) -> None:
        """Close the socket without answering for the next ``times`` calls of ``method``."""
        with self._cond:
            self._faults.append(_Fault(method=method.lower(), kind="drop", remaining=times))

    def reject(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Fail every call of ``method`` (optionally only for ``chat_id``) until ``accept``."""
        fault = _Fault(
            method=method.lower(),
            kind="error",
            error_code=error_code,
            description=description or _DEFAULT_DESCRIPTIONS.get(error_code, "Error"),
            remaining=None,
            chat_id=None if chat_id is None else str(chat_id),
        )
        with self._cond:
            self._faults.append(fault)

    def accept(self, method: str) -> None:
        """Remove all scripted faults (permanent and one-shot) for ``method``."""
        with self._cond:
            self._faults = [f for f in self._faults if f.method != method.lower()]

    # ----------------------------------------------------------------- request handling

    def _serve(self, handler: _Handler) -> None:
        """One request, counted, so that `close` lets answers under way (a long poll woken
        by it) reach the client before the sockets are shut."""
        with self._cond:
            self._in_flight += 1
        try:
            self._handle(handler)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _handle(self, handler: _Handler) -> None:
        """Serve one HTTP request (called on a connection thread)."""
        started = time.time()
        received = time.perf_counter()
        url = urlsplit(handler.path)
        body = handler.read_body()
        download = re.fullmatch(r"/file/bot([^/]*)/documents/([A-Za-z0-9_-]+)", unquote(url.path))
        if download is not None:
            data = self._user_files.get(download.group(2))
            if download.group(1) != self.token or data is None:
                self._send_error(handler, ApiError(404, "Not Found"))
            else:
                handler.send_body(200, data, "application/octet-stream")
            return
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)/?", url.path)
        if match is None:
            self._send_error(handler, ApiError(404, "Not Found"))
            return
        token, method = match.groups()
        if token != self.token:
            with self._cond:
                self._unauthorized.append(url.path)
            self._send_error(handler, ApiError(401, "Unauthorized"))
            return

        content_type = handler.headers.get("Content-Type", "")
        try:
            request = parse_request_body(content_type, body, url.query)
        except (ValueError, UnicodeDecodeError) as exc:
            request = _ParsedRequest()
            parse_error = ApiError(400, f"Bad Request: can't parse request: {exc}")
            self._record(
                method, request, started, content_type, error=parse_error, received=received
            )
            self._send_error(handler, parse_error)
            return

        with self._cond:
            fault = self._take_fault(method, request.params)
        if fault is not None and fault.kind == "drop":
            self._record(
                method,
                request,
                started,
                content_type,
                status=0,
                error_text="connection dropped",
                received=received,
            )
            handler.drop()
            return

        result: Any = None
        error: ApiError | None = None
        if fault is not None:
            error = ApiError(
                fault.error_code, fault.description, fault.parameters, html_body=fault.html_body
            )
        else:
            implementation = self._methods.get(method.lower())
            try:
                if implementation is None:
                    raise ApiError(404, "Not Found: method not found")
                result = implementation(request)
            except ApiError as exc:
                error = exc
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                # A bug in the fake (or input it cannot handle): answer 500, keep a trace.
                with self._cond:
                    self._internal_errors.append(f"{method}: {exc!r}")
                error = ApiError(500, f"Internal Server Error: fake failed: {exc!r}")

        self._record(
            method, request, started, content_type, result=result, error=error, received=received
        )
        if error is not None:
            self._send_error(handler, error)
        else:
            payload = json.dumps({"ok": True, "result": result}).encode()
            handler.send_body(200, payload, "application/json")

    def _send_error(self, handler: _Handler, error: ApiError) -> None:
        if error.html_body:
            phrase = _DEFAULT_DESCRIPTIONS.get(error.error_code, "Error")
            page = _NGINX_PAGE.format(code=error.error_code, phrase=phrase)
            handler.send_body(error.error_code, page.encode(), "text/html")
            return
        payload: JSONDict = {
            "ok": False,
            "error_code": error.error_code,
            "description": error.description,
        }
        if error.parameters:
            payload["parameters"] = error.parameters
        handler.send_body(error.error_code, json.dumps(payload).encode(), "application/json")

    def _record(
        self,
        method: str,
        request: _ParsedRequest,
        started: float,
        content_type: str,
        *,
        status: int | None = None,
        result: Any = None,
        error: ApiError | None = None,
        error_text: str | None = None,
        received: float | None = None,
    ) -> None:
        call = Call(
            method=method,
            params=request.params,
            files=request.files,
            time=started,
            status=status if status is not None else (error.error_code if error else 200),
            result=copy.deepcopy(result),
            error=error.description if error else error_text,
            content_type=content_type.split(";")[0].strip(),
            received=time.perf_counter() if received is None else received,
        )
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _take_fault(self, method: str, params: JSONDict) -> _Fault | None:
        """Pick the scripted fault for this request (drops, then one-shots, then permanent)."""
        candidates = [
            f for f in self._faults if f.method == method.lower() and f.applies_to(params)
        ]
        candidates.sort(key=lambda f: (f.kind != "drop", f.remaining is None))
        if not candidates:
            return None
        fault = candidates[0]
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
        return fault

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _matches(call: Call, method: str | None, predicate: Callable[[Call], bool] | None) -> bool:
        if method is not None and call.method.lower() != method.lower():
            return False
        return predicate is None or predicate(call)

    def _summary(self) -> str:
        counts = Counter(c.method for c in self._calls)
        overview = ", ".join(f"{m} x{n}" for m, n in counts.items()) or "no calls at all"
        recent = [c for c in self._calls if c.method.lower() != "getupdates"][-15:]
        lines = [f"received: {overview}; pending updates: {len(self._updates)}"]
        for c in recent:
            shown = {k: v for k, v in c.params.items() if k not in ("reply_markup",)}
            text = json.dumps(shown, ensure_ascii=False, default=str)
            if len(text) > 200:
                text = text[:197] + "..."
            files = f" files={sorted(c.files)}" if c.files else ""
            outcome = "ok" if c.ok else f"{c.status} {c.error or ''}".strip()
            lines.append(f"  {c.method}({text}){files} -> {outcome}")
        if self._unauthorized:
            lines.append(f"  plus {len(self._unauthorized)} request(s) with a wrong token")
        if self._internal_errors:
            lines.append(f"  fake internal errors: {self._internal_errors}")
        return "\n".join(lines)

    def _describe_timeout(
        self,
        method: str | None,
        count: int,
        timeout: float,
        predicate: Callable[[Call], bool] | None,
        matched: int,
    ) -> str:
        what = method or "any method"
        cond = " matching the predicate" if predicate is not None else ""
        return (
            f"timed out after {timeout:.1f}s waiting for {count} call(s) of {what}{cond} "
            f"(got {matched}); {self._summary()}"
        )

    def _next_message_id(self) -> int:
        with self._cond:
            message_id = self._next_msg_id
            self._next_msg_id += 1
            return message_id

    def _bump_message_id(self, message_id: int) -> None:
        with self._cond:
            self._next_msg_id = max(self._next_msg_id, message_id + 1)

    def _user_dict(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        is_bot: bool,
        language_code: str | None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._cond:
            self._users[user_id] = user
        return copy.deepcopy(user)

    @staticmethod
    def _command_entities(text: str) -> list[JSONDict]:
        if not text.startswith("/"):
            return []
        command = re.match(r"/\S*", text)
        assert command is not None
        return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}]

    @staticmethod
    def _key(chat_id: Any, message_id: Any) -> tuple[str, int]:
        if isinstance(message_id, str) and _INT_RE.match(message_id):
            message_id = int(message_id)
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        return (str(chat_id), message_id)

    def _remember_message(self, message: JSONDict, *, overwrite: bool = True) -> None:
        key = self._key(message.get("chat", {}).get("id"), message.get("message_id", 0))
        if overwrite or key not in self._messages:
            self._messages[key] = copy.deepcopy(message)
        self._bump_message_id(key[1])

    def _resolve_message(self, message: JSONDict | int) -> JSONDict:
        """Current stored version of ``message`` (dict or message id)."""
        if isinstance(message, int):
            found = [m for (_, mid), m in self._messages.items() if mid == message]
            if not found:
                raise LookupError(f"unknown message_id {message}")
            return copy.deepcopy(found[-1])
        key = self._key(message.get("chat", {}).get("id"), message.get("message_id", 0))
        return copy.deepcopy(self._messages.get(key, message))

    def _chat_dict(self, chat_id: int | str) -> JSONDict:
        if isinstance(chat_id, str):  # "@channelusername"
            return {
                "id": -1001000000001,
                "type": "channel",
                "title": chat_id.lstrip("@"),
                "username": chat_id.lstrip("@"),
            }
        if chat_id > 0:
            user = self._users.get(chat_id, {})
            chat: JSONDict = {
                "id": chat_id,
                "type": "private",
                "first_name": user.get("first_name", "User"),
            }
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        return {
            "id": chat_id,
            "type": "supergroup",
            "title": self._chat_titles.get(chat_id, self.group_title),
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_key = json.dumps(scope, sort_keys=True) if scope else '{"type": "default"}'
        return scope_key, str(language_code or "")

    # ----------------------------------------------------------------- validation

    @staticmethod
    def _require_chat_id(params: JSONDict) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and not chat_id.startswith("@"):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id  # type: ignore[no-any-return]

    def _formatted(self, params: JSONDict, key: str, limit: int, too_long: str) -> str | None:
        """Validate text/caption incl. parse_mode; return the plain text Telegram would store."""
        raw = params.get(key)
        if raw is None:
            return None
        text = str(raw)
        parse_mode = params.get("parse_mode")
        if parse_mode not in (None, "", "HTML", "Markdown", "MarkdownV2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if parse_mode == "HTML" and self.validate_html:
            text = parse_html_text(text)
        if _utf16_len(text) > limit:
            raise ApiError(400, too_long)
        return text

    @staticmethod
    def _check_reply_markup(params: JSONDict) -> JSONDict | None:
        """Validate ``reply_markup``; return it if it is an inline keyboard (echoed back)."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None  # reply keyboards / force_reply are not echoed by Telegram
        if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
                "should be an Array of Arrays",
            )
        actions = (
            "callback_data",
            "url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "web_app",
            "login_url",
            "pay",
            "callback_game",
            "copy_text",
        )
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                if not any(a in button for a in actions):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _new_bot_message(self, params: JSONDict, chat_id: int | str) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(),
            "from": self.bot_user,
            "chat": self._chat_dict(chat_id),
            "date": int(self.now()),
        }
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        reply_id = reply_id if reply_id is not None else params.get("reply_to_message_id")
        if reply_id is not None:
            reply_chat = reply.get("chat_id", chat_id) if isinstance(reply, dict) else chat_id
            original = self._messages.get(self._key(reply_chat, reply_id))
            allow = params.get("allow_sending_without_reply") or (
                isinstance(reply, dict) and reply.get("allow_sending_without_reply")
            )
            if original is not None:
                replied = copy.deepcopy(original)
                replied.pop("reply_to_message", None)
                message["reply_to_message"] = replied
            elif self.strict_messages and not allow:
                raise ApiError(400, "Bad Request: message to be replied not found")
        return message

    def _store_bot_message(self, message: JSONDict) -> JSONDict:
        with self._cond:
            key = self._key(message["chat"]["id"], message["message_id"])
            self._messages[key] = copy.deepcopy(message)
            self._bot_message_keys.add(key)
        return message

    def _editable_message(self, params: JSONDict) -> JSONDict | None:
        """The stored message addressed by an edit request (None for inline messages)."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._require_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = self._key(chat_id, message_id)
        stored = self._messages.get(key)
        if stored is None:
            if self.strict_messages:
                raise ApiError(400, "Bad Request: message to edit not found")
            stored = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._chat_dict(chat_id),
                "date": int(self.now()),
            }
            self._bot_message_keys.add(key)
        elif key not in self._bot_message_keys and self.strict_messages:
            raise ApiError(400, "Bad Request: message can't be edited")
        return copy.deepcopy(stored)

    # ----------------------------------------------------------------- Bot API methods

    def _m_true(self, request: _ParsedRequest) -> bool:
        return True

    def _m_get_me(self, request: _ParsedRequest) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_delete_webhook(self, request: _ParsedRequest) -> bool:
        with self._cond:
            self._webhook_url = ""
        if request.params.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
                self._cond.notify_all()
        return True

    def _m_get_webhook_info(self, request: _ParsedRequest) -> JSONDict:
        with self._cond:
            pending, url = len(self._updates), self._webhook_url
        info: JSONDict = {"url": url, "has_custom_certificate": False,
                          "pending_update_count": pending}
        if url:
            info["max_connections"] = 40
        return info

    def _m_set_my_commands(self, request: _ParsedRequest) -> bool:
        params = request.params
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand")
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not description.strip():
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                raise ApiError(400, "Bad Request: command description is too long")
        with self._cond:
            key = self._commands_key(params.get("scope"), params.get("language_code"))
            self._commands[key] = copy.deepcopy(commands)
        return True

    def _m_delete_my_commands(self, request: _ParsedRequest) -> bool:
        with self._cond:
            key = self._commands_key(
                request.params.get("scope"), request.params.get("language_code")
            )
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(self, request: _ParsedRequest) -> list[JSONDict]:
        return self.commands(request.params.get("scope"), request.params.get("language_code", ""))

    def _m_get_updates(self, request: _ParsedRequest) -> list[JSONDict]:
        with self._cond:
            if self._webhook_url:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                               "active; use deleteWebhook to delete the webhook first")
        params = request.params
        offset, limit, timeout = (
            params.get("offset"),
            params.get("limit", 100),
            params.get("timeout", 0),
        )
        for name, value in (("offset", offset), ("limit", limit), ("timeout", timeout)):
            if value is not None and not isinstance(value, int):
                raise ApiError(400, f"Bad Request: wrong parameter {name} in request")
        limit = max(1, min(100, int(limit)))
        wait = min(max(0.0, float(timeout or 0)), self.max_poll_wait)
        deadline = time.monotonic() + wait
        with self._cond:
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed] or None
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # terminate a concurrent poll with 409
            while True:
                self._confirm(offset)
                ready = self._deliverable()
                if ready or self._closed:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._pollers_waiting += 1
                self._cond.notify_all()
                try:
                    self._cond.wait(remaining)
                finally:
                    self._pollers_waiting -= 1
                if self._poll_generation != generation:
                    raise ApiError(409, _DEFAULT_DESCRIPTIONS[409])
            batch = copy.deepcopy(ready[:limit])
            if batch:
                self._delivered_up_to = max(self._delivered_up_to, batch[-1]["update_id"])
                handed_out = (time.perf_counter(), len(self._calls))
                for upd in batch:
                    self._delivered.setdefault(upd["update_id"], handed_out)
                self._cond.notify_all()
            return batch

    def _confirm(self, offset: int | None) -> None:
        """Forget updates confirmed by ``offset`` (negative: keep only the last -offset)."""
        if offset is None or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> list[JSONDict]:
        """Queued updates the bot may receive; others are discarded like Telegram does."""
        if self._allowed_updates is not None:
            allowed = set(self._allowed_updates)
            self._updates = [u for u in self._updates if set(u) - {"update_id"} <= allowed]
        return self._updates

    def _m_send_message(self, request: _ParsedRequest) -> JSONDict:
        params = request.params
        chat_id = self._require_chat_id(params)
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = self._formatted(params, "text", 4096, "Bad Request: message is too long")
        if not (text or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._check_reply_markup(params)
        with self._cond:
            message = self._new_bot_message(params, chat_id)
            message["text"] = text
            if isinstance(params.get("entities"), list):
                message["entities"] = params["entities"]
            if markup is not None:
                message["reply_markup"] = markup
            return self._store_bot_message(message)

    def _send_media(self, request: _ParsedRequest, kind: str) -> JSONDict:
        params = request.params
        chat_id = self._require_chat_id(params)
        caption = self._formatted(
            params, "caption", 1024, "Bad Request: message caption is too long"
        )
        markup = self._check_reply_markup(params)
        upload = request.files.get(kind)
        reference = params.get(kind)
        if isinstance(reference, str) and reference.startswith("attach://"):
            upload = request.files.get(reference[len("attach://") :])
            if upload is None:
                raise ApiError(
                    400,
                    f"Bad Request: wrong HTTP URL specified or file {reference} "
                    "not found in the request",
                )
        if upload is None and not reference:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        with self._cond:
            number = next(self._file_ids)
            file_id = str(reference) if upload is None else f"FAKE{kind.upper()}{number}"
            unique = f"U{kind}{number}"
            size = upload.size if upload is not None else 0
            message = self._new_bot_message(params, chat_id)
            if kind == "photo":
                message["photo"] = [
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": 320,
                        "height": 240,
                        "file_size": size,
                    },
                ]
            else:
                document: JSONDict = {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": size,
                }
                if upload is not None and upload.filename:
                    document["file_name"] = upload.filename
                if upload is not None and upload.content_type:
                    document["mime_type"] = upload.content_type
                message["document"] = document
            if caption:
                message["caption"] = caption
                if isinstance(params.get("caption_entities"), list):
                    message["caption_entities"] = params["caption_entities"]
            if markup is not None:
                message["reply_markup"] = markup
            return self._store_bot_message(message)

    def _m_send_photo(self, request: _ParsedRequest) -> JSONDict:
        return self._send_media(request, "photo")

    def _m_send_document(self, request: _ParsedRequest) -> JSONDict:
        return self._send_media(request, "document")

    def _m_edit_message_text(self, request: _ParsedRequest) -> JSONDict | bool:
        params = request.params
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = self._formatted(params, "text", 4096, "Bad Request: MESSAGE_TOO_LONG")
        markup = self._check_reply_markup(params)
        with self._cond:
            message = self._editable_message(params)
            if message is None:
                return True  # inline message
            if message.get("text") == text and message.get("reply_markup") == markup:
                raise ApiError(400, _NOT_MODIFIED)
            message["text"] = text
            message.pop("entities", None)
            if isinstance(params.get("entities"), list):
                message["entities"] = params["entities"]
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            message["edit_date"] = int(self.now())
            return self._store_bot_message(message)

    def _m_edit_message_reply_markup(self, request: _ParsedRequest) -> JSONDict | bool:
        markup = self._check_reply_markup(request.params)
        with self._cond:
            message = self._editable_message(request.params)
            if message is None:
                return True
            if message.get("reply_markup") == markup:
                raise ApiError(400, _NOT_MODIFIED)
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            message["edit_date"] = int(self.now())
            return self._store_bot_message(message)

    def _m_delete_message(self, request: _ParsedRequest) -> bool:
        params = request.params
        chat_id = self._require_chat_id(params)
        key = self._key(chat_id, params.get("message_id", 0))
        with self._cond:
            if self._messages.pop(key, None) is None and self.strict_messages:
                raise ApiError(400, "Bad Request: message to delete not found")
            self._bot_message_keys.discard(key)
        return True

    def _m_answer_callback_query(self, request: _ParsedRequest) -> bool:
        query_id = str(request.params.get("callback_query_id", ""))
        with self._cond:
            if query_id not in self._open_callback_queries:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout "
                    "expired or query ID is invalid",
                )
        text = request.params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_send_chat_action(self, request: _ParsedRequest) -> bool:
        self._require_chat_id(request.params)
        if request.params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _known_chat(self, params: JSONDict) -> int | str:
        chat_id = self._require_chat_id(params)
        with self._cond:
            if str(chat_id) in self._unknown_chats:
                raise ApiError(400, "Bad Request: chat not found")
            moved = self._migrated.get(str(chat_id))
        if moved is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": moved})
        return chat_id

    def _m_get_chat(self, request: _ParsedRequest) -> JSONDict:
        chat_id = self._known_chat(request.params)
        with self._cond:
            chat = self._chat_dict(chat_id)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def add_member(self, chat_id: int, user_id: int) -> None:
        """`user_id` is in the group `chat_id` (getChatMember says "member")."""
        with self._cond:
            self._chat_members.setdefault(str(chat_id), set()).add(user_id)

    def add_file(self, data: bytes, file_name: str,
                 mime_type: str = "application/octet-stream") -> JSONDict:
        """A file a user sends: the ``document`` for ``push_message``; getFile and the
        download URL serve its bytes."""
        file_id = f"BQACUser{next(self._file_ids)}"
        with self._cond:
            self._user_files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                "mime_type": mime_type, "file_size": len(data)}

    def _m_get_file(self, request: _ParsedRequest) -> JSONDict:
        file_id = str(request.params.get("file_id") or "")
        with self._cond:
            data = self._user_files.get(file_id)
        if data is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                "file_path": f"documents/{file_id}"}

    def _m_get_chat_member(self, request: _ParsedRequest) -> JSONDict:
        self._known_chat(request.params)
        user_id = request.params.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        with self._cond:
            in_chat = user_id in self._chat_members.get(str(request.params["chat_id"]), set())
            if user_id == BOT_ID:
                user = self.bot_user
            else:
                user = copy.deepcopy(
                    self._users.get(
                        user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
                    )
                )
            is_admin = user_id in self._admin_ids
        if not is_admin:
            return {"status": "member" if in_chat else "left", "user": user}
        rights = [
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
            "can_manage_topics",
        ]
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            **dict.fromkeys(rights, True),
        }
