"""python-telegram-bot's requests to the Bot API over aiohttp instead of httpx.

Why: httpx, httpcore, anyio and h11 read and write HTTP in pure Python. Timed in the
real process against the local Bot API (`python -m bench.phases`), reading the
getUpdates answer and sending the reply took 5.3 ms of a confirmation with httpx, 2.8 ms
with this (and uvloop). aiohttp parses HTTP in C and is installed anyway: the Matrix
front-end (matrix-nio) is built on it.

An outgoing proxy is taken from the environment as httpx took it (`bot/frontends/proxy.py`),
once per server: aiohttp's own `trust_env` reads the environment and the netrc file
again for every request (about 1 ms each).

Like python-telegram-bot's own HTTPXRequest, this maps failures to `TimedOut` and
`NetworkError`; answers with an error status go back to python-telegram-bot, which
raises its usual errors for them. A failure after the request went out carries
`AnswerLost` as its cause: Telegram may have carried the request out, so an automatic
post is not simply sent again.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.frontends.proxy import proxy_for

FORM = "application/x-www-form-urlencoded"
KEEPALIVE = 5.0  # seconds an idle connection is kept (httpx's default too)


class AnswerLost(Exception):
    """The request was sent, but its answer did not arrive: it may have been carried out."""


class AiohttpRequest(BaseRequest):
    """One connection pool to the Bot API; python-telegram-bot's defaults for timeouts."""

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._defaults = {"read": read_timeout, "write": write_timeout,
                          "connect": connect_timeout, "pool": pool_timeout}
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # per server (scheme://host:port)

    @property
    def read_timeout(self) -> float | None:
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The system's CA certificates; the proxy per request (`proxy_for`).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size,
                                               keepalive_timeout=KEEPALIVE),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = self._given(read_timeout, "read")
        connect = self._given(connect_timeout, "connect")
        pool = self._given(pool_timeout, "pool")
        write = (self._given(write_timeout, "write") if not files
                 else write_timeout if not isinstance(write_timeout, DefaultValue)
                 else self._media_write_timeout)
        try:
            async with self._session.request(
                    method, url, data=_body(request_data, files), proxy=self._proxy(url),
                    timeout=_timeout(read, write, connect, pool)) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise TimedOut("Could not connect to Telegram in time") from err
        except aiohttp.ClientConnectorError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        except TimeoutError as err:
            raise TimedOut() from _lost(err)
        except aiohttp.ClientError as err:
            # Disconnected, a broken answer, a failed write: the request may have gone out.
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from _lost(err)

    def _proxy(self, url: str) -> str | None:
        parts = urlsplit(url)
        server = f"{parts.scheme}://{parts.netloc}"
        if server not in self._proxies:
            self._proxies[server] = proxy_for(url, os.environ)
        return self._proxies[server]

    def _given(self, value: ODVInput[float], name: str) -> float | None:
        return self._defaults[name] if isinstance(value, DefaultValue) else value


def _lost(err: BaseException) -> AnswerLost:
    """`err` as the cause of an AnswerLost (kept in the chain for the log)."""
    lost = AnswerLost(f"{type(err).__name__}: {err}")
    lost.__cause__ = err
    return lost


def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
    """The form as python-telegram-bot's own HTTPXRequest sends it: URL-encoded, or
    multipart with files (`multipart`).

    As bytes: handing aiohttp a dict builds a multipart writer for every request, which
    cost more than the rest of the request.
    """
    if request_data is None:
        return None
    if not files:
        return aiohttp.BytesPayload(request_data.url_encoded_parameters().encode(),
                                    content_type=FORM)
    body, content_type = multipart(request_data.json_parameters, files)
    return aiohttp.BytesPayload(body, content_type=content_type)


def multipart(fields: Mapping[str, str],
              files: Mapping[str, tuple[str | None, Any, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type, as httpx writes it (the form
    Telegram has always been sent): names and file names as UTF-8 in quotes, `"` as %22;
    plain fields without a content type. aiohttp's own form would percent-encode every
    file name that is not ASCII ("Fachkr%C3%A4fte.docx")."""
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; '
                     f'name="{_quoted(name)}"\r\n\r\n'.encode() + value.encode() + b"\r\n")
    for name, (filename, content, mimetype) in files.items():
        data = content.read() if hasattr(content, "read") else content
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
        if filename is not None:
            head += f'; filename="{_quoted(filename)}"'
        head += f"\r\nContent-Type: {mimetype}\r\n\r\n"
        parts.append(head.encode() + bytes(data) + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quoted(value: str) -> str:
    """A name inside the quotes of a Content-Disposition header (HTML's form encoding)."""
    return "".join("%22" if c == '"' else "\\\\" if c == "\\" else
                   f"%{ord(c):02X}" if ord(c) < 0x20 else c for c in value)


def _timeout(read: float | None, write: float | None, connect: float | None,
             pool: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for python-telegram-bot's four.

    aiohttp has no write timeout; the whole request is bounded by the sum of the four
    instead, so a request never hangs when the other side stops reading.
    """
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect,
                                 sock_read=read)

