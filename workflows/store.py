"""The one Store in front of TinyDB: the progress log, the post log, chats, the schema version.

The progress log (updates and milestone marks, one id sequence) is split into
TinyDB tables of CHUNK records each, stored one file per chunk; a write appends just
the changed records to the storage's journal, so recording costs the same with 50
records or 50,000. The Store keeps the records as dataclasses in memory with indexes
by AP, by message and (built on demand) newest first per AP; TinyDB and the files are
the truth it is built from at start-up and after a failed write.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Document, Table

from workflows.calendar_versions import EventVersion
from workflows.ids import ChatId, MessageId, UserId
from workflows.minutes import (
    AgendaItem,
    Entry,
    MeetingWork,
    Session,
    agenda_doc,
    agenda_from,
    entry_doc,
    entry_from,
    session_doc,
    session_from,
)
from workflows.progress import Author, MilestoneMark, PendingReport, Update, order_key
from workflows.storage import (
    LOG_PREFIX,
    AtomicJSONStorage,
    DirectoryLock,
    StoreError,
)

# 2: chat, user and message ids are stored as text (Telegram's numbers as their decimal
# form, Matrix ids as they are); a version-1 database is converted at start-up.
SCHEMA_VERSION = 2
DB_NAME = "apbot.json"
log = logging.getLogger(__name__)
CHUNK = 100  # records per log file: the most a fold of the journal rewrites per table
Record = Update | MilestoneMark


def _clean(text: str) -> str:
    """`text` as UTF-8 can hold it: a lone surrogate (rare, but Telegram text can have one)
    becomes U+FFFD, so one bad character never stops a report from being recorded."""
    try:
        text.encode()
    except UnicodeEncodeError:
        # Through UTF-16: a pair of surrogates becomes its character, a lone one U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean_or_none(text: str | None) -> str | None:
    return None if text is None else _clean(text)


def _clean_author(author: Author) -> Author:
    name = _clean(author.name)
    return author if name == author.name else Author(author.id, name)


def _clean_update(u: Update) -> Update:
    """The update as it is stored (see `_clean`)."""
    cleaned = replace(u, ap=_clean(u.ap), text=_clean(u.text), author=_clean_author(u.author),
                      state=_clean_or_none(u.state),
                      forwarded_from=_clean_or_none(u.forwarded_from))
    return u if cleaned == u else cleaned


def _clean_mark(m: MilestoneMark) -> MilestoneMark:
    """The mark as it is stored (see `_clean`)."""
    cleaned = replace(m, milestone=_clean(m.milestone), author=_clean_author(m.author))
    return m if cleaned == m else cleaned


def _update_doc(u: Update) -> dict[str, Any]:
    return {
        "type": "update", "ap": u.ap, "text": u.text, "author_id": u.author.id,
        "author_name": u.author.name,
        "chat_id": u.chat_id, "message_id": u.message_id, "at": u.at.isoformat(),
        "state": u.state, "percent": u.percent, "forwarded_from": u.forwarded_from,
        "withdrawn": u.withdrawn, "withdrawn_by": u.withdrawn_by,
    }


@functools.lru_cache(maxsize=1024)
def _author(user_id: UserId, name: str) -> Author:
    """One Author object per person, not one per record (memory at 50k records)."""
    return Author(user_id, name)


def _record_id(item: tuple[int, Record]) -> int:
    return item[0]


class _BadRecord(Exception):
    """A log document that lacks a field or holds a wrong type; the message says which."""


Kinds = type | tuple[type, ...]
_NONE = type(None)
# Ids are text since schema 2; a version-1 record (numbers) is read as text too, so that
# a read-only look at a database not yet converted works.
_ID = (str, int)
_COMMON: dict[str, Kinds] = {
    "author_id": _ID, "author_name": str, "chat_id": _ID, "message_id": (*_ID, _NONE),
    "at": str, "withdrawn": bool}
_UPDATE_FIELDS = {"ap": str, "text": str, **_COMMON, "state": (str, _NONE),
                  "percent": (int, _NONE)}
_MARK_FIELDS = {"milestone": str, "reached_on": str, **_COMMON}
_OPTIONAL: dict[str, Kinds] = {  # fields that older records lack
    "forwarded_from": (str, _NONE), "withdrawn_by": (*_ID, _NONE)}
# Where version 1 kept numeric ids, per table ("log" for the progress log's chunks).
_ID_FIELDS = {"log": ("author_id", "chat_id", "message_id", "withdrawn_by"),
              "posts": ("chat_id",), "chats": ("old", "new"),
              "plan_proposals": ("by", "chat"), "plan_changes": ("by",),
              "agenda_items": ("author_id", "chat_id", "message_id"),
              "minutes_entries": ("author_id", "owner_id", "chat_id", "message_id")}


def _text_id(value: Any) -> Any:
    """An id as schema 2 stores it: numbers become their decimal text (bools are no ids)."""
    if type(value) is str or value is None:  # nearly always: read once per record
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _text_ids(doc: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields of `doc` that change when its ids become text."""
    if not isinstance(doc, dict):
        return {}
    return {name: _text_id(doc[name]) for name in fields
            if name in doc and _text_id(doc[name]) is not doc[name]}


def _check(doc: Any, fields: dict[str, Kinds]) -> None:
    for name, kind in fields.items():
        if name not in doc:
            raise _BadRecord(f"Feld {name!r} fehlt")
        if not isinstance(doc[name], kind):
            raise _BadRecord(f"Feld {name!r} hat den falschen Typ")
    for name, kind in _OPTIONAL.items():
        if not isinstance(doc.get(name), kind):
            raise _BadRecord(f"Feld {name!r} hat den falschen Typ")


def _moment(doc: Any) -> datetime:
    try:
        at = datetime.fromisoformat(doc["at"])
    except ValueError:
        raise _BadRecord(f"Feld 'at' ist kein Zeitpunkt: {doc['at']!r}") from None
    if at.tzinfo is None:
        raise _BadRecord(f"Feld 'at' hat keine Zeitzone: {doc['at']!r}")
    return at


def _day(doc: Any) -> date:
    try:
        return date.fromisoformat(doc["reached_on"])
    except ValueError:
        raise _BadRecord(f"Feld 'reached_on' ist kein Datum: {doc['reached_on']!r}") from None


_MISSING = object()  # a required field that may be None, absent


def _is_id(value: Any) -> bool:
    return type(value) is str or type(value) is int


def _update_from(doc: Any, doc_id: int) -> Update:
    # Start-up reads every record (10 µs each would be half a second at 50k): the usual
    # document is checked with a few exact type tests; only one that fails them goes
    # through `_check`, which names what is wrong.
    get = doc.get
    ap, text, author_name, at, withdrawn = (
        get("ap"), get("text"), get("author_name"), get("at"), get("withdrawn"))
    author_id, chat_id, message_id, withdrawn_by = (
        get("author_id"), get("chat_id"), get("message_id", _MISSING), get("withdrawn_by"))
    state, percent = get("state", _MISSING), get("percent", _MISSING)
    forwarded_from = get("forwarded_from")
    if not (type(ap) is str and type(text) is str and type(author_name) is str
            and type(at) is str and type(withdrawn) is bool
            and _is_id(author_id) and _is_id(chat_id)
            and (message_id is None or _is_id(message_id))
            and (withdrawn_by is None or _is_id(withdrawn_by))
            and (state is None or type(state) is str)
            and (percent is None or type(percent) is int)
            and (forwarded_from is None or type(forwarded_from) is str)):
        _check(doc, _UPDATE_FIELDS)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = _moment(doc)  # raises, naming the field
    if moment.tzinfo is None:
        moment = _moment(doc)
    # Positional, in Update's field order (a third faster than by keyword).
    return Update(
        ap, text, _author(author_id if type(author_id) is str else _text_id(author_id),
                          author_name),
        chat_id if type(chat_id) is str else _text_id(chat_id),
        message_id if type(message_id) is str else _text_id(message_id),
        moment, state, percent, forwarded_from, withdrawn,
        withdrawn_by if withdrawn_by is None else _text_id(withdrawn_by), doc_id,
    )


def _mark_doc(m: MilestoneMark) -> dict[str, Any]:
    return {
        "type": "mark", "milestone": m.milestone, "reached_on": m.reached_on.isoformat(),
        "author_id": m.author.id, "author_name": m.author.name, "chat_id": m.chat_id,
        "message_id": m.message_id, "at": m.at.isoformat(), "withdrawn": m.withdrawn,
        "withdrawn_by": m.withdrawn_by,
    }


def _mark_from(doc: Any, doc_id: int) -> MilestoneMark:
    _check(doc, _MARK_FIELDS)
    return MilestoneMark(
        milestone=doc["milestone"], reached_on=_day(doc),
        author=_author(_text_id(doc["author_id"]), doc["author_name"]),
        chat_id=_text_id(doc["chat_id"]), message_id=_text_id(doc["message_id"]), at=_moment(doc),
        withdrawn=doc["withdrawn"], withdrawn_by=_text_id(doc.get("withdrawn_by")), id=doc_id,
    )


def _record_from(doc: Any, doc_id: int) -> Record:
    """The record a log document holds; _BadRecord if it does not hold one."""
    if not isinstance(doc, dict):
        raise _BadRecord("kein Objekt")
    kind = doc.get("type")
    if kind == "mark":
        return _mark_from(doc, doc_id)
    if kind == "update":
        return _update_from(doc, doc_id)
    raise _BadRecord(f"unbekannte Art {kind!r}")


def _pending_doc(p: PendingReport) -> dict[str, Any]:
    return {
        "question": p.question, "text": _clean(p.text), "author_id": p.author.id,
        "author_name": _clean(p.author.name), "chat_id": p.chat_id,
        "message_id": p.message_id, "at": p.at.isoformat(),
        "updates": [_update_doc(_clean_update(u)) for u in p.updates],
        "marks": [_mark_doc(_clean_mark(m)) for m in p.marks],
        "choices": list(p.choices),
        "reached_on": p.reached_on.isoformat() if p.reached_on else None,
        "forwarded_from": _clean_or_none(p.forwarded_from), "answer": p.answer,
        "answered_by": _clean_or_none(p.answered_by),
    }


def _pending_from(doc: Any, doc_id: int) -> PendingReport:
    return PendingReport(
        question=doc["question"], text=doc["text"],
        author=_author(doc["author_id"], doc["author_name"]), chat_id=doc["chat_id"],
        message_id=doc["message_id"], at=_moment(doc),
        updates=tuple(replace(_update_from(u, 0), id=None) for u in doc["updates"]),
        marks=tuple(replace(_mark_from(m, 0), id=None) for m in doc["marks"]),
        choices=tuple(doc["choices"]),
        reached_on=date.fromisoformat(doc["reached_on"]) if doc.get("reached_on") else None,
        forwarded_from=doc.get("forwarded_from"), answer=doc.get("answer"),
        answered_by=doc.get("answered_by"), id=doc_id,
    )


class Store:
    """apbot's database: one TinyDB file in the data directory, written atomically."""

    def __init__(self, data_dir: Path, db: TinyDB, storage: AtomicJSONStorage,
                 lock: DirectoryLock) -> None:
        self.data_dir = data_dir
        self._db = db
        self._storage = storage
        self._lock = lock
        self._meta = db.table("meta")
        self._posts = db.table("posts")
        self._chats = db.table("chats")
        self._buttons = db.table("buttons")
        self._plan_proposals = db.table("plan_proposals")
        self._plan_changes = db.table("plan_changes")
        self._calendar = db.table("calendar")
        self._pending = db.table("pending_reports")
        self._agenda = db.table("agenda_items")
        self._minutes = db.table("minutes_entries")
        self._sessions = db.table("meeting_sessions")
        self._records: dict[int, Record] = {}
        self._by_ap: dict[str, list[int]] = {}
        self._by_message: dict[tuple[ChatId, MessageId], list[int]] = {}
        self._mark_ids: list[int] = []
        self._newest_first: dict[str, list[tuple[float, int]]] = {}  # per AP, built on demand
        self._last_id = 0
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the in-memory log from what TinyDB holds (after open or a failed write)."""
        self._db.clear_cache()
        _author.cache_clear()
        records = [self._parsed(name, doc_id, doc)
                   for name, table in self._storage.log_tables()
                   for doc_id, doc in table.items()]
        records.sort(key=_record_id)  # the chunk files hold them nearly in order already
        self._records, self._by_ap, self._by_message, self._mark_ids = {}, {}, {}, []
        self._newest_first = {}
        self._last_id = 0
        # What `_index` does for one new record, for all of them at once (this runs for
        # every stored record at start-up).
        by_ap, by_message, marks = self._by_ap, self._by_message, self._mark_ids
        for record_id, record in records:
            if type(record) is Update:
                by_ap.setdefault(record.ap, []).append(record_id)
            else:
                marks.append(record_id)
            if record.message_id is not None:
                by_message.setdefault((record.chat_id, record.message_id), []).append(record_id)
        self._records = dict(records)
        if len(self._records) != len(records):  # an id twice: the later one counts, as before
            self._records, self._by_ap, self._by_message, self._mark_ids = {}, {}, {}, []
            for record_id, record in records:
                self._index(record_id, record)
        self._last_id = records[-1][0] if records else 0

    def _parsed(self, table: str, doc_id: str, doc: Any) -> tuple[int, Record]:
        """A log document as a record; StoreCorruptError naming its file if it is none."""
        try:
            record_id = int(doc_id)
            if record_id < 1:
                raise ValueError(doc_id)
        except ValueError:
            raise self._storage.damaged_record(table, doc_id, "keine gültige Nummer") from None
        try:
            return record_id, _record_from(doc, record_id)
        except _BadRecord as err:
            raise self._storage.damaged_record(table, doc_id, str(err)) from None

    def _index(self, record_id: int, record: Record) -> None:
        old = self._records.get(record_id)
        self._records[record_id] = record
        self._last_id = max(self._last_id, record_id)
        if old is not None:
            if isinstance(old, Update) and isinstance(record, Update) and (
                    old.ap, old.at) != (record.ap, record.at):
                if old.ap != record.ap:
                    self._by_ap[old.ap].remove(record_id)
                    bisect.insort(self._by_ap.setdefault(record.ap, []), record_id)
                self._newest_first.pop(old.ap, None)  # rebuilt when next asked for
                self._newest_first.pop(record.ap, None)
            return
        if isinstance(record, Update):
            self._by_ap.setdefault(record.ap, []).append(record_id)
            order = self._newest_first.get(record.ap)
            if order is not None:
                # Kept newest first (descending keys): insort on the negated key.
                key = order_key(record)
                bisect.insort(order, (-key[0], -key[1]))
        else:
            self._mark_ids.append(record_id)
        if record.message_id is not None:
            self._by_message.setdefault((record.chat_id, record.message_id), []).append(record_id)

    def _chunk(self, record_id: int) -> Table:
        return self._db.table(f"{LOG_PREFIX}{(record_id - 1) // CHUNK + 1:04d}")

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """A change of the log: if it does not reach the disk, memory follows the disk.

        Whatever the failure (not only an OSError), TinyDB's tables and the records held
        here are dropped and read again from the files.
        """
        try:
            yield
        except BaseException:
            self._storage.forget()
            self._reindex()
            raise

    @classmethod
    def open(cls, data_dir: Path, now: datetime, read_only: bool = False) -> Store:
        """Lock the directory and open its database; raise StoreError with a reason for people.

        `read_only` takes no lock, so listings work beside the running bot; any write fails.
        """
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"Das Datenverzeichnis {data_dir} lässt sich nicht anlegen "
                             f"({err.strerror or err}).") from None
        lock = DirectoryLock(data_dir)
        if not read_only:
            lock.acquire()
        try:
            storage = AtomicJSONStorage(data_dir / DB_NAME, data_dir / "backups",
                                        read_only=read_only)
            storage.read()  # parse now: a corrupt file must stop start-up, not a later write
            db = TinyDB(storage=lambda: storage)
            store = cls(data_dir, db, storage, lock)
            store._check_schema(now)
        except BaseException:
            lock.release()
            raise
        return store

    def _check_schema(self, now: datetime) -> None:
        meta = self._meta.get(doc_id=1)
        if meta is None:
            if self._storage.read_only:
                return
            self._write(now)
            self._meta.insert({"schema": SCHEMA_VERSION, "created": now.isoformat()})
            return
        version = meta.get("schema")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise StoreError(
                f"Die Datenbank {self._storage.path} hat das Schema {version!r}; diese "
                f"apbot-Version kennt nur bis {SCHEMA_VERSION}. Bitte apbot aktualisieren."
            )
        if version == 1 and not self._storage.read_only:
            self._ids_as_text(now)

    def _ids_as_text(self, now: datetime) -> None:
        """Schema 1 → 2: every stored id becomes text, after a copy of the database as it was.

        One write: a crash leaves the version-1 database (and the copy), never half of each.
        """
        try:
            copy = self._storage.copy_to(self._storage.backup_dir / "before-schema-2")
        except OSError as err:
            raise StoreError(
                f"Die Datenbank {self._storage.path} muss auf das neue Format umgestellt "
                f"werden, aber die Sicherung davor ließ sich nicht anlegen "
                f"({err.strerror or err}). apbot hat nichts verändert."
            ) from None
        log.info("converting %s to schema 2 (ids as text); the database as it was is kept "
                 "in %s", self._storage.path, copy)
        self._write(now)
        with self.transaction():
            for name, table in list(self._storage.log_tables()):
                for doc_id, doc in table.items():
                    if changed := _text_ids(doc, _ID_FIELDS["log"]):
                        self._db.table(name).update(changed, doc_ids=[int(doc_id)])
            for name in ("posts", "chats", "plan_proposals", "plan_changes", "agenda_items",
                         "minutes_entries"):
                main = self._db.table(name)
                for doc in main.all():
                    if changed := _text_ids(doc, _ID_FIELDS[name]):
                        main.update(changed, doc_ids=[doc.doc_id])
            self._meta.update({"schema": SCHEMA_VERSION}, doc_ids=[1])

    @property
    def schema_version(self) -> int:
        meta = self._meta.get(doc_id=1)
        return int(meta["schema"]) if meta else SCHEMA_VERSION

    @property
    def path(self) -> Path:
        return self._storage.path

    def _write(self, now: datetime) -> None:
        # The storage keeps one backup per day, taken before that day's first write.
        self._storage.write_time = now

    def take_notices(self) -> list[str]:
        """German one-line notices for the admins not yet handed out (e.g. a failed backup).

        Each problem is handed out once, and again only after it was over and came back.
        """
        return self._storage.notices.take()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so that they land together (one write per file) or not at all."""
        with self._changing(), self._storage.batch():
            yield

    def close(self) -> None:
        self._db.close()
        self._lock.release()

    # -- the progress log ------------------------------------------------

    def _add(self, doc: dict[str, Any], now: datetime) -> int:
        self._write(now)
        record_id = self._last_id + 1
        with self._changing():
            self._chunk(record_id).insert(Document(doc, doc_id=record_id))
        return record_id

    def _save(self, record_id: int | None, doc: dict[str, Any], now: datetime) -> None:
        if record_id is None:
            raise ValueError("record has no id")
        if record_id not in self._records:
            raise ValueError(f"no stored record {record_id}")
        self._write(now)
        with self._changing():
            self._chunk(record_id).update(doc, doc_ids=[record_id])

    def add_update(self, update: Update, now: datetime) -> Update:
        """Store an update and return it as stored: with its id, its text cleaned."""
        update = _clean_update(update)
        stored = replace(update, id=self._add(_update_doc(update), now))
        self._index(stored.id or 0, stored)
        return stored

    def save_update(self, update: Update, now: datetime) -> Update:
        """Overwrite a stored update (same id), e.g. after an edit or an undo; return it as
        stored (text cleaned)."""
        update = _clean_update(update)
        self._save(update.id, _update_doc(update), now)
        self._index(update.id or 0, update)
        return update

    def update(self, update_id: int) -> Update | None:
        record = self._records.get(update_id)
        return record if isinstance(record, Update) else None

    def updates(self, ap: str | None = None) -> list[Update]:
        """All updates (withdrawn ones too), optionally of one AP, oldest first."""
        if ap is not None:
            return [r for i in self._by_ap.get(ap, ()) if isinstance(r := self._records[i], Update)]
        return [r for r in self._records.values() if isinstance(r, Update)]

    def updates_newest_first(self, ap: str) -> Iterator[Update]:
        """An AP's updates (withdrawn ones too), newest first by `order_key`.

        The order is built the first time an AP is asked for and kept up to date after,
        so `latest_progress` can stop after the few newest reports.
        """
        order = self._newest_first.get(ap)
        if order is None:
            updates = [r for i in self._by_ap.get(ap, ())
                       if isinstance(r := self._records[i], Update)]
            order = sorted((-at, -record_id) for at, record_id in map(order_key, updates))
            self._newest_first[ap] = order
        for _, negated_id in order:
            record = self._records[-negated_id]
            if isinstance(record, Update):
                yield record

    def updates_of_message(self, chat_id: ChatId, message_id: MessageId) -> list[Update]:
        return [r for i in self._by_message.get((chat_id, message_id), ())
                if isinstance(r := self._records[i], Update)]

    def add_mark(self, mark: MilestoneMark, now: datetime) -> MilestoneMark:
        """Store a milestone mark and return it as stored: with its id, its text cleaned."""
        mark = _clean_mark(mark)
        stored = replace(mark, id=self._add(_mark_doc(mark), now))
        self._index(stored.id or 0, stored)
        return stored

    def save_mark(self, mark: MilestoneMark, now: datetime) -> MilestoneMark:
        """Overwrite a stored mark (same id); return it as stored (text cleaned)."""
        mark = _clean_mark(mark)
        self._save(mark.id, _mark_doc(mark), now)
        self._index(mark.id or 0, mark)
        return mark

    def marks(self) -> list[MilestoneMark]:
        """All milestone marks (withdrawn ones too), oldest first."""
        return [r for i in self._mark_ids if isinstance(r := self._records[i], MilestoneMark)]

    def marks_of_message(self, chat_id: ChatId, message_id: MessageId) -> list[MilestoneMark]:
        return [r for i in self._by_message.get((chat_id, message_id), ())
                if isinstance(r := self._records[i], MilestoneMark)]

    # -- questions whether a message is a report -------------------------------

    def save_pending(self, pending: PendingReport, now: datetime) -> PendingReport:
        """Keep a question asked about a message (a new one, or one changed: same id), so
        that its buttons work after a restart; return it with its id."""
        self._write(now)
        doc = _pending_doc(pending)
        if pending.id is not None and self._pending.contains(doc_id=pending.id):
            self._pending.update(doc, doc_ids=[pending.id])
            return pending
        return replace(pending, id=int(self._pending.insert(doc)))

    def pending(self, pending_id: int) -> PendingReport | None:
        doc = self._pending.get(doc_id=pending_id)
        return _pending_from(doc, doc.doc_id) if doc is not None else None

    def pending_of_message(self, chat_id: ChatId, message_id: MessageId) -> PendingReport | None:
        """The question asked about a message, if one was."""
        for doc in self._pending.all():
            if doc["chat_id"] == chat_id and doc["message_id"] == message_id:
                return _pending_from(doc, doc.doc_id)
        return None

    # -- the post log ------------------------------------------------------

    # One entry per post key. Status "sending": the post's parts ("texts") are stored
    # before the first goes out and "parts_sent" counts those delivered, so a retry after
    # any failure sends only what is missing; "sent", "skipped" and "incomplete" (given
    # up half-sent once no longer useful) are final, and the texts are dropped.

    def posted_keys(self) -> set[str]:
        """Keys of every automatic post sent, being sent, or deliberately skipped."""
        return {doc["key"] for doc in self._posts.all()}

    def posted(self) -> dict[str, datetime]:
        """Every logged post's key, with the time it was planned for."""
        return {doc["key"]: datetime.fromisoformat(doc["planned"]) for doc in self._posts.all()}

    def log_post(self, key: str, status: str, planned: datetime, now: datetime,
                 late: bool = False, chat_id: ChatId | None = None) -> None:
        """Record that a post was sent (status "sent") or skipped ("skipped")."""
        self._save_post({"key": key, "status": status, "planned": planned.isoformat(),
                         "done": now.isoformat(), "late": late, "chat_id": chat_id}, now)

    def _save_post(self, doc: dict[str, Any], now: datetime) -> None:
        """Insert or replace the entry of doc["key"]: one write (TinyDB's upsert makes two)."""
        self._write(now)
        found = [d.doc_id for d in self._posts.all() if d["key"] == doc["key"]]
        if found:
            def overwrite(old: Any) -> None:
                old.clear()
                old.update(doc)

            self._posts.update(overwrite, doc_ids=found[:1])
        else:
            self._posts.insert(doc)

    def begin_post(self, key: str, planned: datetime, useful_until: datetime, now: datetime,
                   texts: list[str], late: bool, chat_id: ChatId) -> None:
        """Record, before its first part goes out, that a post is being sent and its parts."""
        self._save_post({"key": key, "status": "sending", "planned": planned.isoformat(),
                         "useful_until": useful_until.isoformat(), "done": now.isoformat(),
                         "late": late, "chat_id": chat_id, "parts": len(texts),
                         "parts_sent": 0, "texts": list(texts)}, now)

    def post_parts_sent(self, key: str, sent: int, chat_id: ChatId, now: datetime) -> None:
        """Record that a post's first `sent` parts reached `chat_id`; with the last, "sent"."""
        def advance(doc: Any) -> None:
            doc.update(parts_sent=sent, chat_id=chat_id, done=now.isoformat())
            if sent >= doc.get("parts", 0):
                doc["status"] = "sent"
                doc.pop("texts", None)

        self._write(now)
        self._posts.update(advance, Query().key == key)

    def give_up_post(self, key: str, now: datetime) -> None:
        """A post begun but no longer useful: status "incomplete", its missing parts dropped."""
        def close(doc: Any) -> None:
            doc.update(status="incomplete", done=now.isoformat())
            doc.pop("texts", None)

        self._write(now)
        self._posts.update(close, Query().key == key)

    def unfinished_posts(self) -> list[dict[str, Any]]:
        """Posts begun and not finished (status "sending"), in the order they were begun."""
        return [dict(doc) for doc in self._posts.all() if doc.get("status") == "sending"]

    def post_log(self) -> list[dict[str, Any]]:
        return [dict(doc) for doc in self._posts.all()]

    def last_post_check(self) -> datetime | None:
        """When the scheduler last looked for due posts."""
        doc = self._meta.get(doc_id=1)
        value = doc.get("last_post_check") if doc else None
        return datetime.fromisoformat(value) if value else None

    def set_last_post_check(self, when: datetime) -> None:
        self._write(when)
        self._meta.update({"last_post_check": when.isoformat()}, doc_ids=[1])

    # -- chats -------------------------------------------------------------

    def record_migration(self, old_chat_id: ChatId, new_chat_id: ChatId, now: datetime) -> None:
        """A chat continues under a new id (Telegram: group → supergroup; Matrix: room
        upgrade, m.room.tombstone): the team chat and the allowed chats follow it."""
        self._write(now)
        self._chats.upsert({"old": old_chat_id, "new": new_chat_id}, Query().old == old_chat_id)

    def chat_migrations(self) -> dict[ChatId, ChatId]:
        """Each chat that continues under a new id, and that id (old → new)."""
        return {_text_id(doc["old"]): _text_id(doc["new"]) for doc in self._chats.all()}

    def keep_button_data(self, key: str, data: str, now: datetime) -> None:
        """A button's data too long for its messenger, kept under the short `key` it sends
        instead (Telegram takes 64 bytes), so that the button works after a restart too."""
        self._write(now)
        self._buttons.upsert({"key": key, "data": data}, Query().key == key)

    def button_data(self, key: str) -> str | None:
        doc = self._buttons.get(Query().key == key)
        return str(doc["data"]) if isinstance(doc, dict) and "data" in doc else None

    # -- plan changes --------------------------------------------------------

    def propose_plan_change(self, proposal: dict[str, Any], now: datetime) -> int:
        """Keep a change shown as a preview until it is taken or dropped; returns its id."""
        self._write(now)
        return int(self._plan_proposals.insert({**proposal, "at": now.isoformat()}))

    def plan_proposal(self, proposal_id: int) -> dict[str, Any] | None:
        doc = self._plan_proposals.get(doc_id=proposal_id)
        return dict(doc) if doc is not None else None

    def drop_plan_proposal(self, proposal_id: int, now: datetime) -> None:
        self._write(now)
        self._plan_proposals.remove(doc_ids=[proposal_id])

    def record_plan_change(self, change: dict[str, Any], now: datetime,
                           proposal_id: int | None = None) -> int:
        """Log a change of the plan (who, what, how to undo it); the proposal goes with it."""
        self._write(now)
        with self.transaction():
            if proposal_id is not None and self._plan_proposals.contains(doc_id=proposal_id):
                self._plan_proposals.remove(doc_ids=[proposal_id])
            return int(self._plan_changes.insert({**change, "at": now.isoformat()}))

    def mark_plan_change_undone(self, change_id: int, by: int, now: datetime) -> None:
        self._write(now)
        self._plan_changes.update({"undone_by": by}, doc_ids=[change_id])

    def plan_change(self, change_id: int) -> dict[str, Any] | None:
        doc = self._plan_changes.get(doc_id=change_id)
        return {**doc, "id": doc.doc_id} if doc is not None else None

    def plan_changes(self) -> list[dict[str, Any]]:
        """Every change of the plan made in the chat, oldest first, each with its id."""
        return [{**doc, "id": doc.doc_id} for doc in self._plan_changes.all()]

    # -- calendar events ------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Opened without the lock (a listing or export beside the running bot)."""
        return bool(self._storage.read_only)

    def event_versions(self) -> dict[str, EventVersion]:
        """Every calendar event's version as last exported, by UID."""
        return {doc["uid"]: EventVersion(doc["uid"], doc["digest"], doc["sequence"],
                                         datetime.fromisoformat(doc["changed"]))
                for doc in self._calendar.all()}

    def save_event_versions(self, versions: list[EventVersion], now: datetime) -> None:
        """Record new versions of calendar events, in one write."""
        if not versions:
            return
        known = {doc["uid"]: doc.doc_id for doc in self._calendar.all()}
        self._write(now)
        with self.transaction():
            for v in versions:
                doc = {"uid": v.uid, "digest": v.digest, "sequence": v.sequence,
                       "changed": v.changed.isoformat()}
                if v.uid in known:
                    self._calendar.update(doc, doc_ids=[known[v.uid]])
                else:
                    self._calendar.insert(doc)
    # -- meetings: agenda items, minutes entries, sittings started and ended -----

    def add_agenda_item(self, item: AgendaItem, now: datetime) -> AgendaItem:
        """Put a topic on a meeting's agenda; returns it with its id."""
        self._write(now)
        item = replace(item, text=_clean(item.text), author=_clean_author(item.author))
        return replace(item, id=int(self._agenda.insert(agenda_doc(item))))

    def save_agenda_item(self, item: AgendaItem, now: datetime) -> AgendaItem:
        """Store a changed agenda item (dealt with, withdrawn, corrected by an edit)."""
        item_id = item.id
        if item_id is None or not self._agenda.contains(doc_id=item_id):
            raise ValueError(f"no stored agenda item {item_id}")
        self._write(now)
        item = replace(item, text=_clean(item.text))
        self._agenda.update(agenda_doc(item), doc_ids=[item_id])
        return item

    def agenda_items(self) -> list[AgendaItem]:
        return [agenda_from(doc, doc.doc_id) for doc in self._agenda.all()]

    def agenda_item(self, item_id: int) -> AgendaItem | None:
        doc = self._agenda.get(doc_id=item_id)
        return agenda_from(doc, doc.doc_id) if doc is not None else None

    def agenda_items_of_message(self, chat_id: ChatId, message_id: MessageId) -> list[AgendaItem]:
        return [i for i in self.agenda_items()
                if i.chat_id == chat_id and i.message_id == message_id]

    def add_entry(self, entry: Entry, now: datetime) -> Entry:
        """Take a decision, action item or info into the minutes; returns it with its id."""
        self._write(now)
        entry = replace(entry, text=_clean(entry.text), author=_clean_author(entry.author),
                        owner=_clean_or_none(entry.owner))
        return replace(entry, id=int(self._minutes.insert(entry_doc(entry))))

    def save_entry(self, entry: Entry, now: datetime) -> Entry:
        """Store a changed entry (done, withdrawn, corrected by an edit)."""
        entry_id = entry.id
        if entry_id is None or not self._minutes.contains(doc_id=entry_id):
            raise ValueError(f"no stored minutes entry {entry_id}")
        self._write(now)
        entry = replace(entry, text=_clean(entry.text), owner=_clean_or_none(entry.owner))
        self._minutes.update(entry_doc(entry), doc_ids=[entry_id])
        return entry

    def entries(self) -> list[Entry]:
        """Every minutes entry, oldest first."""
        return [entry_from(doc, doc.doc_id) for doc in self._minutes.all()]

    def entry(self, entry_id: int) -> Entry | None:
        doc = self._minutes.get(doc_id=entry_id)
        return entry_from(doc, doc.doc_id) if doc is not None else None

    def entries_of_message(self, chat_id: ChatId, message_id: MessageId) -> list[Entry]:
        return [e for e in self.entries() if e.chat_id == chat_id and e.message_id == message_id]

    def save_session(self, session: Session, now: datetime) -> Session:
        """Record that a sitting was started or ended by command (one record per sitting)."""
        self._write(now)
        doc = session_doc(session)
        if session.id is not None and self._sessions.contains(doc_id=session.id):
            self._sessions.update(doc, doc_ids=[session.id])
            return session
        return replace(session, id=int(self._sessions.insert(doc)))

    def sessions(self) -> list[Session]:
        return [session_from(doc, doc.doc_id) for doc in self._sessions.all()]

    def meeting_work(self) -> MeetingWork:
        """What the posts about meetings are planned from."""
        return MeetingWork(tuple(self.sessions()), tuple(self.entries()),
                           tuple(self.agenda_items()))
