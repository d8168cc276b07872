"""The team on a real homeserver: members as matrix-nio clients, the bot as its real process.

`Member` sends as a person (text, edits, replies, reactions, files) and waits for what
the bot posts; `MatrixBot` runs `python -m bot` (through tests/clocked_bot.py, at the
tests' date) against the homeserver of tests/matrix_server.py; `HoldingProxy` stands
between the two where a test must stop the bot at a chosen request.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import io
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, ErrorResponse, RoomCreateResponse, SyncResponse, UploadResponse

from tests.bot_process import E2E_NOW, ChildProcess, bot_env
from tests.matrix_server import Synapse, User, synapse_python

RUNNING = "apbot is running as"


def synapse_or_skip() -> Path:
    """Synapse's python; the test is skipped without it, except in CI, where it fails."""
    python = synapse_python()
    if python is None:
        reason = ("Synapse is not installed (run .ci/run, or set APBOT_SYNAPSE_PYTHON to the "
                  "python of a venv with matrix-synapse)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


class Member:
    """A person in the rooms, through matrix-nio: says things, waits for the bot."""

    def __init__(self, server: Synapse, user: User) -> None:
        self.user = user
        self.client = AsyncClient(server.url, user.user_id)
        self.client.access_token = user.access_token
        self.client.user_id = user.user_id
        self.since: str | None = None
        self.seen: list[dict[str, Any]] = []  # events of other people, oldest first

    async def __aenter__(self) -> Member:
        answer = await self.client.sync(timeout=0)
        assert isinstance(answer, SyncResponse), answer
        self.since = answer.next_batch
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    async def create_room(self, name: str, invite: list[str], encrypted: bool = False,
                          direct: bool = False) -> str:
        initial = ([{"type": "m.room.encryption", "state_key": "",
                     "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else [])
        answer = await self.client.room_create(name=name, invite=invite, is_direct=direct,
                                               initial_state=initial)
        assert isinstance(answer, RoomCreateResponse), answer
        return str(answer.room_id)

    async def join(self, room_id: str) -> None:
        answer = await self.client.join(room_id)
        assert not isinstance(answer, ErrorResponse), answer

    async def send(self, room_id: str, content: dict[str, Any],
                   event_type: str = "m.room.message") -> str:
        answer = await self.client.room_send(room_id, event_type, content)
        assert not isinstance(answer, ErrorResponse), answer
        return str(answer.event_id)

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text, **extra})

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        new = {"msgtype": "m.text", "body": text}
        return await self.send(room_id, {**new, "body": f"* {text}", "m.new_content": new,
                                         "m.relates_to": {"rel_type": "m.replace",
                                                          "event_id": event_id}})

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(room_id, {"m.relates_to": {
            "rel_type": "m.annotation", "event_id": event_id, "key": key}}, "m.reaction")

    async def upload(self, room_id: str, name: str, data: bytes, mimetype: str) -> str:
        answer, _ = await self.client.upload(lambda *_: io.BytesIO(data), content_type=mimetype,
                                             filename=name, filesize=len(data))
        assert isinstance(answer, UploadResponse), answer
        return await self.send(room_id, {"msgtype": "m.file", "body": name, "filename": name,
                                         "url": answer.content_uri,
                                         "info": {"mimetype": mimetype, "size": len(data)}})

    async def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0,
                   ) -> dict[str, Any]:
        """The first event (seen before or arriving now) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.seen:
                if predicate(event):
                    self.seen.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such event within {timeout} s; seen: {self.seen}")
            answer = await self.client.sync(timeout=int(min(left, 2) * 1000), since=self.since)
            assert isinstance(answer, SyncResponse), answer
            self.since = answer.next_batch
            for room_id, info in answer.rooms.join.items():
                for event in info.timeline.events:
                    if event.source.get("sender") != self.user.user_id:
                        self.seen.append({**event.source, "room_id": room_id})

    async def answer(self, room_id: str, to: str | None = None,
                     timeout: float = 20.0) -> dict[str, Any]:
        """The bot's next message in the room (in reply to `to`, when given)."""
        def fits(event: dict[str, Any]) -> bool:
            content = event.get("content") or {}
            if event.get("room_id") != room_id or event.get("type") != "m.room.message":
                return False
            if "m.new_content" in content:
                return False
            replied = (content.get("m.relates_to") or {}).get("m.in_reply_to", {})
            return to is None or replied.get("event_id") == to
        return await self.wait(fits, timeout)

    async def quiet(self, room_id: str, seconds: float) -> list[dict[str, Any]]:
        """What the bot posts in `room_id` within `seconds` (expected: nothing)."""
        with_timeout = time.monotonic() + seconds
        found = []
        while time.monotonic() < with_timeout:
            try:
                event = await self.wait(lambda e: e.get("room_id") == room_id
                                        and e.get("type") == "m.room.message",
                                        max(0.1, with_timeout - time.monotonic()))
            except TimeoutError:
                break
            found.append(event)
        return found


def body(event: dict[str, Any]) -> str:
    return str((event.get("content") or {}).get("body", ""))


def html(event: dict[str, Any]) -> str:
    return str((event.get("content") or {}).get("formatted_body", ""))


class MatrixBot(ChildProcess):
    """`python -m bot` on Matrix (via tests.clocked_bot), its log in a file."""

    def __init__(self, server: Synapse, bot: User, data_dir: Path, log_path: Path,
                 now: datetime = E2E_NOW, **env: str) -> None:
        self.log_path = log_path
        self.now = now
        self.env = bot_env(data_dir, None, APBOT_MATRIX_HOMESERVER=server.url,
                           APBOT_MATRIX_USER=bot.user_id, **env)
        if "APBOT_MATRIX_PASSWORD" not in env:
            self.env.setdefault("APBOT_MATRIX_ACCESS_TOKEN", bot.access_token)
        self.proc: subprocess.Popen[bytes] | None = None
        self.began = time.monotonic()

    def set_clock(self, now: datetime) -> None:
        """The bot's clock shows `now` at this moment and runs on (across restarts)."""
        self.now, self.began = now, time.monotonic()

    def start(self, timeout: float = 30.0) -> None:
        """Start, and wait until its first sync is done (it says it is running)."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        clock = self.now.timestamp() + (time.monotonic() - self.began)
        moment = datetime.fromtimestamp(clock, self.now.tzinfo)
        proc = self._launch(self.env, moment)
        deadline = time.monotonic() + timeout
        while RUNNING not in self.log()[offset:]:
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the bot did not start; its log:\n{self.log()}")
            time.sleep(0.05)


Hold = Callable[[str, str], bool]  # (method, path) → hold this request


class HoldingProxy:
    """Between the bot and the homeserver: passes every request on, except those `hold`
    picks while it is set — they wait (the bot waits for its answer) until `release`,
    and then get a 502 without ever reaching the homeserver."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.hold: Hold | None = None
        self.held: list[tuple[str, str]] = []
        self._released = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._forward(self)

            do_PUT = do_POST = do_DELETE = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def hold_while(self, hold: Hold) -> None:
        self.held, self.hold = [], hold
        self._released.clear()

    def release(self) -> None:
        self.hold = None
        self._released.set()

    def _forward(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(length) if length else None
        hold = self.hold
        status, payload, kind = 502, b'{"errcode":"M_UNKNOWN","error":"held"}', "application/json"
        if hold is not None and hold(handler.command, handler.path):
            self.held.append((handler.command, handler.path))
            self._released.wait(60)
        else:
            request = urllib.request.Request(self.target + handler.path, data=data,
                                             method=handler.command)
            for name in ("Authorization", "Content-Type"):
                if handler.headers.get(name):
                    request.add_header(name, handler.headers[name])
            try:
                with urllib.request.urlopen(request, timeout=90) as answer:
                    status, payload = answer.status, answer.read()
                    kind = answer.headers.get("Content-Type", kind)
            except urllib.error.HTTPError as err:
                status, payload = err.code, err.read()
                kind = err.headers.get("Content-Type", kind)
            except OSError:
                pass
        with contextlib.suppress(OSError):  # the bot may be gone (killed) by now
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `check` (may be a coroutine function) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.1)
