"""The inbox: incoming events kept on disk from the moment they are fetched until answered.

A messenger hands out events (Telegram's updates) and forgets them once the bot
acknowledges them — Telegram with the next `getUpdates` offset. Acknowledging only
what is handled would leave a kill -9 between the two the only way to lose a
message. So every fetched batch is appended here, with the cursor to resume from,
*before* it is acknowledged, and each event is marked as its replies go out:

    {"cursor": "10000061", "events": [{"key": "10000001", "event": {...}}, …]}
    {"start": "10000001"}             the handling began (counts attempts)
    {"sent": "10000001", "part": 0}   reply part 0 was delivered
    {"done": "10000001"}              every reply was delivered (or given up)

At start-up, events not done are handled again: the store does not record a message
twice, and reply parts already delivered are not sent again. What remains possible is
one repeated reply part when the process dies between the messenger accepting it and
its `sent` line being written.

Lines are written without an fsync each; `sync()` makes them durable and is called
before the next acknowledgement, so what the messenger forgets is always on disk. A
kill -9 keeps unsynced lines anyway (they are in the page cache); a power cut may lose
the newest `sent`/`done` lines, which then repeats a reply, never loses one.

A messenger that forgets what it was told is acknowledged (Telegram) needs less:
`sync_unanswered()` syncs only when an event fetched since the last sync is not done.
When every one of them is answered, nothing it forgets is lost even if the lines go
with a power cut: the answers went out, and the reports in them are in the store, which
syncs each before confirming it. (A cursor that resumes from where it points, like
Matrix's sync token, would replay what was answered if its line were lost: `sync()`.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.journal import fsync_dir
from workflows.storage import StoreCorruptError, StoreWriteError, atomic_write

log = logging.getLogger(__name__)

COMPACT_BYTES = 256 * 1024  # rewrite the file once it is this large
MAX_ATTEMPTS = 3  # an event whose handling began this often without finishing is given up


@dataclass
class Event:
    """One incoming event and how far its answer got."""

    key: str
    payload: dict[str, Any]
    attempts: int = 0
    sent: set[int] = field(default_factory=set)  # reply parts already delivered


class Inbox:
    """An append-only file of fetched events; one writer (the data directory's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cursor: str | None = None
        self._events: dict[str, Event] = {}  # not done yet, in arrival order
        self._fd: int | None = None
        self._size = 0
        self._dirty = False
        self._unsynced: set[str] = set()  # keys of events added since the last sync
        self._load()

    # -- reading ---------------------------------------------------------------------

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as err:
            raise StoreWriteError(f"Der Eingang {self.path} lässt sich nicht lesen "
                                  f"({err.strerror or err}).") from None
        *whole, torn = raw.split(b"\n")
        for number, line in enumerate(whole, start=1):
            try:
                entry = json.loads(line.decode("utf-8"))
                self._apply(entry)
            except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
                raise StoreCorruptError(
                    f"Der Eingang {self.path} ist beschädigt (Zeile {number} ist unlesbar). "
                    f"apbot hat ihn nicht verändert und startet nicht, damit keine Nachricht "
                    f"verloren geht."
                ) from None
        self._size = len(raw) - len(torn)
        if torn:
            # A line cut short by a crash: it was never synced, nothing was acknowledged.
            log.warning("%s: an incomplete last line is dropped", self.path)
        self._compact_if_large(force=bool(torn) or not self._events)

    def _apply(self, entry: dict[str, Any]) -> None:
        if "cursor" in entry:
            self.cursor = str(entry["cursor"]) or None
            for item in entry["events"]:
                key = str(item["key"])
                if not isinstance(item["event"], dict):
                    raise TypeError("event is not an object")
                self._events[key] = Event(key, item["event"])
        elif "start" in entry:
            if (event := self._events.get(str(entry["start"]))) is not None:
                event.attempts += 1
        elif "sent" in entry:
            if (event := self._events.get(str(entry["sent"]))) is not None:
                event.sent.add(int(entry["part"]))
        elif "done" in entry:
            self._events.pop(str(entry["done"]), None)
        else:
            raise KeyError("unknown line")

    # -- what is waiting ---------------------------------------------------------------

    def pending(self) -> list[Event]:
        """Events not done yet, oldest first."""
        return list(self._events.values())

    def get(self, key: str) -> Event | None:
        return self._events.get(key)

    def __len__(self) -> int:
        return len(self._events)

    # -- writing -----------------------------------------------------------------------

    def add(self, events: list[tuple[str, dict[str, Any]]], cursor: str) -> list[Event]:
        """Keep a fetched batch and the cursor after it; returns the events now waiting."""
        fresh = [Event(key, payload) for key, payload in events if key not in self._events]
        try:
            self._append({"cursor": cursor,
                          "events": [{"key": e.key, "event": e.payload} for e in fresh]})
        except OSError as err:
            raise StoreWriteError(f"Speichern in {self.path} fehlgeschlagen "
                                  f"({err.strerror or err}).") from err
        self.cursor = cursor
        for event in fresh:
            self._events[event.key] = event
            self._unsynced.add(event.key)
        return fresh

    def start(self, event: Event) -> None:
        """Handling of `event` begins; counted so that an event that kills us is given up."""
        self._note({"start": event.key})
        event.attempts += 1

    def sent(self, event: Event, part: int) -> None:
        """Reply part `part` of `event` was delivered."""
        if part in event.sent:
            return
        self._note({"sent": event.key, "part": part})
        event.sent.add(part)

    def done(self, event: Event) -> None:
        """Every reply to `event` is delivered, or given up."""
        if self._events.pop(event.key, None) is None:
            return
        self._note({"done": event.key})
        self._compact_if_large()

    def sync(self) -> None:
        """Make everything written so far durable (before acknowledging a batch)."""
        if self._dirty and self._fd is not None:
            os.fsync(self._fd)
            self._dirty = False
        self._unsynced.clear()

    def sync_unanswered(self) -> None:
        """Before acknowledging to a messenger that then forgets (Telegram): sync only if
        an event fetched since the last sync is still waiting (see the module's text)."""
        if any(key in self._events for key in self._unsynced):
            self.sync()
        else:
            self._unsynced.clear()

    def close(self) -> None:
        if self._fd is not None:
            try:
                self.sync()
            except OSError as err:
                log.warning("could not sync %s: %s", self.path, err)
            os.close(self._fd)
            self._fd = None

    def _note(self, entry: dict[str, Any]) -> None:
        """A progress line; if it cannot be written, a restart may repeat a reply: logged."""
        try:
            self._append(entry)
        except OSError as err:
            log.warning("could not note %s in %s (%s)", entry, self.path, err.strerror or err)

    def _append(self, entry: dict[str, Any]) -> None:
        # ASCII with escapes: a lone surrogate from the messenger survives the round trip.
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("ascii")
        fd = self._open()
        try:
            written = 0
            while written < len(data):
                n = os.pwrite(fd, data[written:], self._size + written)
                if n == 0:
                    raise OSError(28, os.strerror(28))  # no progress: a full disk
                written += n
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)
            raise
        self._size += len(data)
        self._dirty = True

    def _open(self) -> int:
        if self._fd is None:
            new = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            if new:
                fsync_dir(self.path.parent)
        return self._fd

    def _compact_if_large(self, force: bool = False) -> None:
        """Rewrite the file as the cursor and what is still waiting, once it has grown."""
        if not force and self._size < COMPACT_BYTES:
            return
        lines: list[dict[str, Any]] = [{"cursor": self.cursor or "",
                  "events": [{"key": e.key, "event": e.payload} for e in self._events.values()]}]
        for event in self._events.values():
            lines += [{"start": event.key}] * event.attempts
            lines += [{"sent": event.key, "part": part} for part in sorted(event.sent)]
        payload = "".join(json.dumps(line, separators=(",", ":")) + "\n"
                          for line in lines).encode("ascii")
        if self.cursor is None and not self._events:
            payload = b""
        try:
            atomic_write(self.path, payload)
        except OSError as err:
            log.warning("could not compact %s (%s); it keeps growing until that works",
                        self.path, err.strerror or err)
            return
        if self._fd is not None:
            os.close(self._fd)  # the old file was replaced
            self._fd = None
        self._size, self._dirty = len(payload), False
