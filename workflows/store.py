"""The one Store in front of TinyDB: progress updates, milestone marks, and the schema version."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from workflows.progress import Author, MilestoneMark, Update
from workflows.storage import (
    AtomicJSONStorage,
    DirectoryLock,
    StoreError,
)

SCHEMA_VERSION = 1
DB_NAME = "apbot.json"


def _update_doc(u: Update) -> dict[str, Any]:
    return {
        "ap": u.ap, "text": u.text, "author_id": u.author.id, "author_name": u.author.name,
        "chat_id": u.chat_id, "message_id": u.message_id, "at": u.at.isoformat(),
        "state": u.state, "percent": u.percent, "forwarded_from": u.forwarded_from,
        "withdrawn": u.withdrawn,
    }


def _update_from(doc: Any) -> Update:
    return Update(
        ap=doc["ap"], text=doc["text"], author=Author(doc["author_id"], doc["author_name"]),
        chat_id=doc["chat_id"], message_id=doc["message_id"],
        at=datetime.fromisoformat(doc["at"]), state=doc["state"], percent=doc["percent"],
        forwarded_from=doc.get("forwarded_from"), withdrawn=doc["withdrawn"], id=doc.doc_id,
    )


def _mark_doc(m: MilestoneMark) -> dict[str, Any]:
    return {
        "milestone": m.milestone, "reached_on": m.reached_on.isoformat(),
        "author_id": m.author.id, "author_name": m.author.name, "chat_id": m.chat_id,
        "message_id": m.message_id, "at": m.at.isoformat(), "withdrawn": m.withdrawn,
    }


def _mark_from(doc: Any) -> MilestoneMark:
    return MilestoneMark(
        milestone=doc["milestone"], reached_on=date.fromisoformat(doc["reached_on"]),
        author=Author(doc["author_id"], doc["author_name"]), chat_id=doc["chat_id"],
        message_id=doc["message_id"], at=datetime.fromisoformat(doc["at"]),
        withdrawn=doc["withdrawn"], id=doc.doc_id,
    )


class Store:
    """apbot's database: one TinyDB file in the data directory, written atomically."""

    def __init__(self, data_dir: Path, db: TinyDB, storage: AtomicJSONStorage,
                 lock: DirectoryLock) -> None:
        self.data_dir = data_dir
        self._db = db
        self._storage = storage
        self._lock = lock
        self._updates = db.table("updates")
        self._marks = db.table("milestones")
        self._meta = db.table("meta")
        self._posts = db.table("posts")
        self._chats = db.table("chats")

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

    @property
    def schema_version(self) -> int:
        meta = self._meta.get(doc_id=1)
        return int(meta["schema"]) if meta else SCHEMA_VERSION

    @property
    def path(self) -> Path:
        return self._storage.path

    def _write(self, now: datetime) -> None:
        # The storage keeps one backup per day, taken before that day's first write.
        self._storage.write_day = now.date()

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group writes so that they land together or not at all."""
        return self._storage.batch()

    def close(self) -> None:
        self._db.close()
        self._lock.release()

    # -- progress updates --------------------------------------------------

    def add_update(self, update: Update, now: datetime) -> Update:
        """Store an update and return it with its id."""
        self._write(now)
        doc_id = self._updates.insert(_update_doc(update))
        return replace(update, id=doc_id)

    def save_update(self, update: Update, now: datetime) -> None:
        """Overwrite a stored update (same id), e.g. after an edit or an undo."""
        if update.id is None:
            raise ValueError("update has no id")
        self._write(now)
        self._updates.update(_update_doc(update), doc_ids=[update.id])

    def update(self, update_id: int) -> Update | None:
        doc = self._updates.get(doc_id=update_id)
        return _update_from(doc) if doc else None

    def updates(self, ap: str | None = None) -> list[Update]:
        """All updates (withdrawn ones too), optionally of one AP, oldest first."""
        docs = self._updates.all() if ap is None else self._updates.search(Query().ap == ap)
        return [_update_from(d) for d in docs]

    def updates_of_message(self, chat_id: int, message_id: int) -> list[Update]:
        q = Query()
        docs = self._updates.search((q.chat_id == chat_id) & (q.message_id == message_id))
        return [_update_from(d) for d in docs]

    # -- milestone marks ---------------------------------------------------

    def add_mark(self, mark: MilestoneMark, now: datetime) -> MilestoneMark:
        self._write(now)
        doc_id = self._marks.insert(_mark_doc(mark))
        return replace(mark, id=doc_id)

    def save_mark(self, mark: MilestoneMark, now: datetime) -> None:
        if mark.id is None:
            raise ValueError("mark has no id")
        self._write(now)
        self._marks.update(_mark_doc(mark), doc_ids=[mark.id])

    def marks(self) -> list[MilestoneMark]:
        """All milestone marks (withdrawn ones too), oldest first."""
        return [_mark_from(d) for d in self._marks.all()]

    def marks_of_message(self, chat_id: int, message_id: int) -> list[MilestoneMark]:
        q = Query()
        docs = self._marks.search((q.chat_id == chat_id) & (q.message_id == message_id))
        return [_mark_from(d) for d in docs]

    # -- the post log ------------------------------------------------------

    def posted_keys(self) -> set[str]:
        """Keys of every automatic post sent or deliberately skipped."""
        return {doc["key"] for doc in self._posts.all()}

    def log_post(self, key: str, status: str, planned: datetime, now: datetime,
                 late: bool = False, chat_id: int | None = None) -> None:
        """Record that a post was sent (status "sent") or skipped ("skipped")."""
        self._write(now)
        self._posts.insert({"key": key, "status": status, "planned": planned.isoformat(),
                            "done": now.isoformat(), "late": late, "chat_id": chat_id})

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

    def record_migration(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup: its messages now come from a new chat id."""
        self._write(now)
        self._chats.upsert({"old": old_chat_id, "new": new_chat_id}, Query().old == old_chat_id)

    def chat_migrations(self) -> dict[int, int]:
        return {doc["old"]: doc["new"] for doc in self._chats.all()}
