"""The calendar over HTTP, for subscription: one file at one secret path, nothing else.

Runs in the bot's event loop (asyncio streams, no web framework): a front-end starts
it with `start_calendar_server` once it is up and ends it with `CalendarServer.stop`.
Each request builds the .ics from the context the front-end hands over at that moment,
so a plan changed in the chat or a milestone just marked is in the next fetch. Off while
APBOT_CALENDAR_PORT is unset; meant to listen on loopback behind the municipality's
reverse proxy, which adds TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable

from bot.calendar_feed import FEED_NAME, feed_path, read_secret
from bot.messages import Clock, Context
from workflows.storage import StoreWriteError

log = logging.getLogger(__name__)
MAX_HEAD = 16 * 1024  # a calendar program's request head is a few hundred bytes
READ_TIMEOUT = 10.0  # seconds a client gets to send its request head
NOT_FOUND = b"Nicht gefunden.\n"


class CalendarServer:
    """Serves the current calendar at /<secret>/arbeits-und-zeitplan.ics."""

    def __init__(self, context: Callable[[], Context], clock: Clock, host: str,
                 port: int) -> None:
        self._context = context
        self._clock = clock
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; OSError when the address cannot be had (port taken, no such host)."""
        self._server = await asyncio.start_server(self._serve, self._host, self._port,
                                                  limit=MAX_HEAD)
        log.info("calendar server listening on %s port %d", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening and end the requests under way."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            status, headers, body = self.answer(head)
            writer.write(_response(status, headers, body))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass  # a client that sends no proper request gets no answer
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def answer(self, head: bytes) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a request head; 404 for anything but the feed."""
        lines = head.decode("latin-1").split("\r\n")
        method, target, *_ = [*lines[0].split(" "), "", ""]
        path = target.partition("?")[0]
        ctx = self._context()
        current = read_secret(ctx.settings.data_dir)
        wanted = feed_path(current).encode() if current else None
        # Compared in constant time: the answer's timing tells nothing about the secret.
        if (method not in ("GET", "HEAD") or wanted is None
                or not hmac.compare_digest(path.encode("latin-1"), wanted)):
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, NOT_FOUND
        from bot.render.calendar_export import calendar_file  # icalendar: not at start-up

        try:
            data = calendar_file(ctx.plan, ctx.store, ctx.settings.timezone, self._clock())
        except StoreWriteError as err:
            log.error("calendar not served: %s", err)
            return 503, {"Content-Type": "text/plain; charset=utf-8", "Retry-After": "600"}, (
                "Der Kalender ist gerade nicht verfügbar.\n".encode())
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"Content-Type": "text/calendar; charset=utf-8", "ETag": etag,
                   "Cache-Control": "no-cache",
                   "Content-Disposition": f'inline; filename="{FEED_NAME}"'}
        asked = {k.strip().lower(): v.strip() for k, _, v in
                 (line.partition(":") for line in lines[1:] if ":" in line)}
        if etag in [t.strip() for t in asked.get("if-none-match", "").split(",")]:
            return 304, headers, b""
        if method == "HEAD":  # the length the GET would have, without the body
            return 200, {**headers, "Content-Length": str(len(data))}, b""
        return 200, headers, data


REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 503: "Service Unavailable"}


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    headers = {"Content-Length": str(len(body)), **headers, "Connection": "close",
               "X-Content-Type-Options": "nosniff"}
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", *(f"{k}: {v}" for k, v in headers.items()),
             ""]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1") + body


async def start_calendar_server(context: Callable[[], Context],
                                clock: Clock) -> CalendarServer | None:
    """The calendar server, listening, when APBOT_CALENDAR_PORT is set; else None.

    `context` gives the conversation's context at each request (the plan as changed in
    the chat). OSError when it cannot listen.
    """
    settings = context().settings
    if settings.calendar_port is None:
        return None
    server = CalendarServer(context, clock, settings.calendar_host, settings.calendar_port)
    await server.start()
    return server

