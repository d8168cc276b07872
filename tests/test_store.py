"""The store: round trips, one process per directory, corrupt files, failed writes, backups.

Also the pure progress fold (workflows.progress) that reads what the store keeps.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import workflows.storage as storage_module
from workflows.progress import (
    APProgress,
    Author,
    MilestoneMark,
    Update,
    ap_progress,
    reached_milestones,
)
from workflows.storage import (
    BACKUPS_KEPT,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreWriteError,
)
from workflows.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=BERLIN)
ALICE = Author("42", "Frau Müller")
BOB = Author("7", "Herr Schmidt")
TEAM_CHAT = "-1001234567890"


def _text(message_id: int | str | None) -> str | None:
    """Ids are text in the store; the tests number messages."""
    return None if message_id is None else str(message_id)


def upd(ap: str = "AP3", text: str = "Einladungen verschickt", *, at: datetime = NOW,
        author: Author = ALICE, chat_id: str = TEAM_CHAT, message_id: int | str | None = 1,
        **fields: object) -> Update:
    return Update(ap=ap, text=text, author=author, chat_id=chat_id, message_id=_text(message_id),
                  at=at, **fields)  # type: ignore[arg-type]


def mark(milestone: str = "M3.1", *, reached_on: date = date(2025, 11, 20), at: datetime = NOW,
         chat_id: str = TEAM_CHAT, message_id: int | str | None = 5,
         **fields: object) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=reached_on, author=ALICE,
                         chat_id=chat_id, message_id=_text(message_id), at=at,
                         **fields)  # type: ignore[arg-type]


def day(n: int) -> datetime:
    """Noon on the n-th day after 1 Jan 2026, Berlin time."""
    return datetime(2026, 1, 1, 12, tzinfo=BERLIN) + timedelta(days=n)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path, NOW)
    yield s
    s.close()


def listing(directory: Path) -> set[str]:
    """Every file below `directory`, relative."""
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def database(directory: Path) -> dict[str, bytes]:
    """The database files (apbot.json, the log chunks, the journal) below `directory`."""
    files = [directory / "apbot.json", *sorted((directory / "log").glob("*.json")),
             directory / "log" / "journal.jsonl"]
    return {str(p.relative_to(directory)): p.read_bytes() for p in files if p.exists()}


def on_disk_log(data_dir: Path) -> dict[int, dict[str, object]]:
    """The progress log as the files hold it: the chunk files, then the journal's lines."""
    docs: dict[int, dict[str, object]] = {}
    for chunk in sorted((data_dir / "log").glob("*.json")):
        for table in json.loads(chunk.read_text(encoding="utf-8")).values():
            docs.update((int(k), v) for k, v in table.items())
    journal = data_dir / "log" / "journal.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    for line in lines:
        for table in json.loads(line).values():
            for k, v in table.items():
                if v is None:
                    docs.pop(int(k), None)
                else:
                    docs[int(k)] = v
    return dict(sorted(docs.items()))


def on_disk_updates(data_dir: Path) -> list[dict[str, object]]:
    return [doc for doc in on_disk_log(data_dir).values() if doc["type"] == "update"]


# -- opening and the schema version -------------------------------------------


def test_open_creates_the_database_with_a_schema_version(tmp_path: Path) -> None:
    data_dir = tmp_path / "neu" / "data"
    s = Store.open(data_dir, NOW)
    try:
        assert s.path == data_dir / "apbot.json"
        assert s.data_dir == data_dir
        assert s.schema_version == 2 == SCHEMA_VERSION
        raw = json.loads(s.path.read_text(encoding="utf-8"))
        assert list(raw["meta"].values()) == [{"schema": 2, "created": NOW.isoformat()}]
        assert s.updates() == []
        assert s.marks() == []
    finally:
        s.close()


def test_reopening_does_not_rewrite_the_file(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    s.add_update(upd(), NOW)
    s.close()
    before = (tmp_path / "apbot.json").read_bytes()
    s = Store.open(tmp_path, NOW + timedelta(days=3))
    assert s.schema_version == SCHEMA_VERSION
    assert len(s.updates()) == 1
    s.close()
    assert (tmp_path / "apbot.json").read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_open_fails_clearly_when_the_data_dir_is_a_file(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="Datenverzeichnis") as info:
        Store.open(not_a_dir, NOW)
    assert str(not_a_dir) in str(info.value)


@pytest.mark.parametrize("schema", [3, 99, "1", None])
def test_unknown_schema_version_is_refused(tmp_path: Path, schema: object) -> None:
    db = tmp_path / "apbot.json"
    db.write_text(json.dumps({"meta": {"1": {"schema": schema, "created": "2030-01-01"}},
                              "updates": {}}), encoding="utf-8")
    before = db.read_bytes()
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path, NOW)
    assert not isinstance(info.value, StoreLockedError)
    message = str(info.value)
    assert str(db) in message
    assert repr(schema) in message
    assert "aktualisieren" in message
    assert db.read_bytes() == before
    # the refused open let go of the directory: trying again gives the same reason
    with pytest.raises(StoreError) as again:
        Store.open(tmp_path, NOW)
    assert not isinstance(again.value, StoreLockedError)


# -- round trips ---------------------------------------------------------------


def test_update_round_trips_every_field(store: Store) -> None:
    at = datetime(2026, 7, 1, 23, 59, 58, 123456, tzinfo=BERLIN)  # summer time, +02:00
    original = upd("AP10", "Erklärvideo fertig 🎬 – „Übergänge“", at=at, author=BOB,
                   message_id="4711", state="verzögert", percent=40,
                   forwarded_from="Kita-Leitung", withdrawn=True)
    stored = store.add_update(original, NOW)
    assert stored.id is not None
    assert replace(stored, id=None) == original
    (loaded,) = store.updates()
    assert loaded == stored
    assert loaded.at.utcoffset() == timedelta(hours=2)
    assert loaded.at.microsecond == 123456
    assert store.update(stored.id) == stored


def test_minimal_update_round_trips_its_empty_fields(store: Store) -> None:
    original = upd(message_id=None)
    stored = store.add_update(original, NOW)
    (loaded,) = store.updates()
    assert loaded == stored
    assert (loaded.message_id, loaded.state, loaded.percent, loaded.forwarded_from,
            loaded.withdrawn) == (None, None, None, None, False)


def test_utc_and_other_offsets_survive(store: Store) -> None:
    utc = store.add_update(upd(at=datetime(2026, 3, 1, 8, tzinfo=UTC)), NOW)
    minus = store.add_update(
        upd(at=datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=-5)))), NOW)
    loaded = {u.id: u for u in store.updates()}
    assert loaded[utc.id].at.utcoffset() == timedelta(0)
    assert loaded[minus.id].at.utcoffset() == timedelta(hours=-5)
    assert loaded[minus.id].at == minus.at


def test_updates_filter_by_ap_oldest_first(store: Store) -> None:
    a = store.add_update(upd("AP3", "eins", message_id="1"), NOW)
    b = store.add_update(upd("AP4", "zwei", message_id="2"), NOW)
    c = store.add_update(upd("AP3", "drei", message_id="3"), NOW)
    assert store.updates() == [a, b, c]
    assert store.updates("AP3") == [a, c]
    assert store.updates("AP4") == [b]
    assert store.updates("AP13") == []
    assert len({a.id, b.id, c.id}) == 3


def test_updates_of_message_matches_chat_and_message(store: Store) -> None:
    # one message may report on two APs
    first = store.add_update(upd("AP3", message_id="10"), NOW)
    second = store.add_update(upd("AP4", message_id="10"), NOW)
    store.add_update(upd("AP3", message_id="11"), NOW)
    store.add_update(upd("AP3", chat_id="999", message_id="10"), NOW)
    assert store.updates_of_message(TEAM_CHAT, "10") == [first, second]
    assert store.updates_of_message(TEAM_CHAT, "12") == []
    assert [u.chat_id for u in store.updates_of_message("999", "10")] == ["999"]


def test_save_update_overwrites_only_that_update(store: Store) -> None:
    a = store.add_update(upd("AP3", "alt", message_id="1"), NOW)
    b = store.add_update(upd("AP4", "anderes", message_id="2"), NOW)
    edited = replace(a, text="neu", state="blockiert", percent=10, withdrawn=True)
    store.save_update(edited, NOW)
    assert store.update(a.id) == edited  # type: ignore[arg-type]
    assert store.update(b.id) == b  # type: ignore[arg-type]
    assert store.updates_of_message(TEAM_CHAT, "1") == [edited]
    assert store.updates("AP3") == [edited]


def test_save_update_needs_an_id(store: Store) -> None:
    with pytest.raises(ValueError, match="no id"):
        store.save_update(upd(), NOW)


def test_unknown_update_id_is_none(store: Store) -> None:
    assert store.update(12345) is None


def test_marks_round_trip_and_save(store: Store) -> None:
    at = datetime(2025, 11, 21, 8, 15, 1, 5, tzinfo=BERLIN)
    original = mark("M3.1", reached_on=date(2025, 11, 20), at=at, message_id=None)
    stored = store.add_mark(original, NOW)
    other = store.add_mark(mark("M2.1", message_id="6"), NOW)
    assert stored.id is not None
    assert replace(stored, id=None) == original
    assert store.marks() == [stored, other]
    assert store.marks()[0].at.utcoffset() == timedelta(hours=1)
    assert store.marks()[0].reached_on == date(2025, 11, 20)
    withdrawn = replace(stored, withdrawn=True)
    store.save_mark(withdrawn, NOW)
    assert store.marks() == [withdrawn, other]
    assert store.marks_of_message(TEAM_CHAT, "6") == [other]
    assert store.marks_of_message(TEAM_CHAT, "7") == []
    with pytest.raises(ValueError, match="no id"):
        store.save_mark(mark(), NOW)


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    a = s.add_update(upd("AP3", percent=50, state="läuft"), NOW)
    b = s.add_update(upd("AP4", message_id=None), NOW)
    m = s.add_mark(mark(), NOW)
    s.save_update(replace(b, withdrawn=True), NOW)
    s.close()

    s = Store.open(tmp_path, NOW + timedelta(hours=1))
    try:
        assert s.updates() == [a, replace(b, withdrawn=True)]
        assert s.marks() == [m]
        assert s.schema_version == SCHEMA_VERSION
        c = s.add_update(upd("AP5"), NOW)
        assert c.id not in {a.id, b.id}
        assert s.updates("AP5") == [c]
    finally:
        s.close()


# -- one process per data directory -------------------------------------------


def test_second_open_in_the_same_process_is_refused(tmp_path: Path) -> None:
    first = Store.open(tmp_path, NOW)
    try:
        with pytest.raises(StoreLockedError) as info:
            Store.open(tmp_path, NOW)
        message = str(info.value)
        assert str(tmp_path) in message
        assert "läuft schon ein apbot" in message
        assert f"PID {os.getpid()}" in message
        # the refused attempt did not take the lock away from the first store
        with pytest.raises(StoreLockedError):
            Store.open(tmp_path, NOW)
        first.add_update(upd(), NOW)
        assert len(first.updates()) == 1
    finally:
        first.close()
    again = Store.open(tmp_path, NOW)
    assert len(again.updates()) == 1
    again.close()


HOLDER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from workflows.store import Store
store = Store.open(Path(sys.argv[1]), datetime(2026, 1, 5, 9, tzinfo=UTC))
print("bereit", flush=True)
sys.stdin.read()
store.close()
"""


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_until_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline().strip()
    if line != "bereit":
        proc.kill()
        proc.wait(timeout=30)
        pytest.fail(f"the holding process did not start: {line!r} {proc.stderr.read()}")


def test_another_process_holding_the_directory_blocks_open(tmp_path: Path) -> None:
    with _holder(tmp_path) as proc:
        assert proc.stdin is not None
        _wait_until_ready(proc)
        with pytest.raises(StoreLockedError) as info:
            Store.open(tmp_path, NOW)
        assert str(tmp_path) in str(info.value)
        assert f"PID {proc.pid}" in str(info.value)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    s = Store.open(tmp_path, NOW)
    s.close()


def test_a_killed_process_does_not_block_the_directory(tmp_path: Path) -> None:
    with _holder(tmp_path) as proc:
        _wait_until_ready(proc)
        with pytest.raises(StoreLockedError):
            Store.open(tmp_path, NOW)
        proc.kill()
        proc.wait(timeout=30)
    s = Store.open(tmp_path, NOW)
    s.close()


# -- a corrupt database is never touched --------------------------------------


def _make_db_with_backups(data_dir: Path, days: list[int]) -> None:
    s = Store.open(data_dir, day(days[0] - 1))
    for n in days:
        s.add_update(upd(text=f"Tag {n}"), day(n))
    s.close()


@pytest.mark.parametrize(
    "content",
    [
        b'{"updates": {"1": {"ap": "AP3", "te',
        b"[]",
        b'{"updates": []}',
        b"",
        "{\"updates\": {}}".encode("utf-16"),
    ],
    ids=["truncated", "list", "table-not-object", "empty", "not-utf8"],
)
def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "apbot.json"
    db.write_bytes(content)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, NOW)
    message = str(info.value)
    assert str(db) in message
    assert "beschädigt" in message
    assert "keine Sicherung" in message
    assert db.read_bytes() == content
    assert listing(tmp_path) == {"apbot.json", "apbot.lock"}
    # the lock was released: a second try fails for the same reason, not "locked"
    with pytest.raises(StoreCorruptError):
        Store.open(tmp_path, NOW)


def test_corrupt_file_message_names_the_newest_backup(tmp_path: Path) -> None:
    _make_db_with_backups(tmp_path, [1, 2, 3])
    backups = sorted((tmp_path / "backups").iterdir())
    assert [b.name for b in backups] == [f"apbot-{day(n).date().isoformat()}"
                                         for n in (1, 2, 3)]
    db = tmp_path / "apbot.json"
    truncated = db.read_bytes()[: len(db.read_bytes()) // 2]
    db.write_bytes(truncated)
    before = listing(tmp_path)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, day(4))
    message = str(info.value)
    assert str(db) in message
    assert str(backups[-1]) in message
    assert str(backups[0]) not in message
    assert db.read_bytes() == truncated
    assert listing(tmp_path) == before


# -- a failed write leaves the old file ----------------------------------------


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("broken", ["pwrite", "fsync"])
@pytest.mark.parametrize("operation", ["add_update", "save_update", "add_mark", "save_mark"])
def test_failed_write_keeps_file_and_memory_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, operation: str,
) -> None:
    s = Store.open(tmp_path, NOW)
    try:
        kept = s.add_update(upd("AP3", "bleibt"), NOW)
        kept_mark = s.add_mark(mark(), NOW)
        before_bytes, before_files = database(tmp_path), listing(tmp_path)

        with monkeypatch.context() as patch:
            patch.setattr(storage_module.os, broken, _enospc)
            with pytest.raises(StoreWriteError) as info:
                if operation == "add_update":
                    s.add_update(upd("AP4", "geht verloren"), NOW)
                elif operation == "save_update":
                    s.save_update(replace(kept, text="geändert", withdrawn=True), NOW)
                elif operation == "add_mark":
                    s.add_mark(mark("M2.1"), NOW)
                else:
                    s.save_mark(replace(kept_mark, withdrawn=True), NOW)

        message = str(info.value)
        assert str(tmp_path) in message  # names the file it could not write
        assert os.strerror(errno.ENOSPC) in message
        assert "unverändert" in message
        assert isinstance(info.value.__cause__, OSError)
        assert database(tmp_path) == before_bytes
        assert listing(tmp_path) == before_files  # no temporary file left behind
        # what the store shows is what is on disk: the failed change is not visible
        assert s.updates() == [kept]
        assert s.update(kept.id) == kept  # type: ignore[arg-type]
        assert s.updates("AP4") == []
        assert s.updates_of_message(TEAM_CHAT, "1") == [kept]
        assert s.marks() == [kept_mark]

        # once the disk has room again, writing works
        later = s.add_update(upd("AP5", "später"), NOW)
        assert s.updates() == [kept, later]
        assert [u["text"] for u in on_disk_updates(tmp_path)] == ["bleibt", "später"]
    finally:
        s.close()
    s = Store.open(tmp_path, NOW)
    assert [u.text for u in s.updates()] == ["bleibt", "später"]
    assert s.marks() == [kept_mark]
    s.close()


def test_failed_first_write_of_a_day_keeps_the_file_and_its_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _make_db_with_backups(tmp_path, [1])
    before = database(tmp_path)
    s = Store.open(tmp_path, day(2))
    try:
        with monkeypatch.context() as patch:
            patch.setattr(storage_module.os, "pwrite", _enospc)  # the journal's write
            with pytest.raises(StoreWriteError):
                s.add_update(upd(text="Tag 2"), day(2))
        assert database(tmp_path) == before
        assert [u.text for u in s.updates()] == ["Tag 1"]
        s.add_update(upd(text="Tag 2, zweiter Versuch"), day(2))
    finally:
        s.close()
    backup = tmp_path / "backups" / f"apbot-{day(2).date().isoformat()}"
    assert database(backup) == before
    assert [u["text"] for u in on_disk_updates(tmp_path)] == ["Tag 1", "Tag 2, zweiter Versuch"]


def test_failed_backup_leaves_no_temporary_file_and_the_write_goes_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _make_db_with_backups(tmp_path, [1])
    before = listing(tmp_path)
    s = Store.open(tmp_path, day(2))
    try:
        with monkeypatch.context() as patch:
            patch.setattr(storage_module.os, "replace", _enospc)  # the backup's rename
            s.add_update(upd(text="Tag 2"), day(2))
    finally:
        s.close()
    assert listing(tmp_path) == before
    assert [u["text"] for u in on_disk_updates(tmp_path)] == ["Tag 1", "Tag 2"]


def test_write_error_is_only_raised_when_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Store.open(tmp_path, NOW)
    db = tmp_path / "apbot.json"
    before = db.read_bytes()
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync_fails_second_time(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the first syncs the temporary file, the second the directory
            _enospc()
        real_fsync(fd)

    try:
        with monkeypatch.context() as patch:
            patch.setattr(storage_module.os, "fsync", fsync_fails_second_time)
            try:
                s.add_update(upd(text="neu"), NOW)
                raised = False
            except StoreWriteError:
                raised = True
        assert len(calls) == 2
        if raised:
            assert db.read_bytes() == before
            assert s.updates() == []
        else:
            assert [u.text for u in s.updates()] == ["neu"]
    finally:
        s.close()


def test_unreadable_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "apbot.json").mkdir()
    with pytest.raises(StoreError, match=r"apbot\.json"):
        Store.open(tmp_path, NOW)


# -- daily backups ---------------------------------------------------------------


def test_first_write_of_a_day_backs_up_the_previous_file(tmp_path: Path) -> None:
    s = Store.open(tmp_path, day(0))
    s.add_update(upd(text="Tag 0"), day(0))
    assert not (tmp_path / "backups").exists()  # nothing to back up before the file existed
    previous = database(tmp_path)

    s.add_update(upd(text="Tag 1, erste"), day(1))
    backup = tmp_path / "backups" / f"apbot-{day(1).date().isoformat()}"
    assert database(backup) == previous
    after_first = database(tmp_path)

    s.add_update(upd(text="Tag 1, zweite"), day(1) + timedelta(hours=5))
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [backup.name]
    assert database(backup) == previous
    s.close()

    # a restart later that day does not replace the day's backup either
    s = Store.open(tmp_path, day(1) + timedelta(hours=6))
    s.add_update(upd(text="Tag 1, dritte"), day(1) + timedelta(hours=6))
    s.close()
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [backup.name]
    assert database(backup) == previous
    assert database(tmp_path) != after_first


def test_only_the_newest_backups_are_kept(tmp_path: Path) -> None:
    s = Store.open(tmp_path, day(-1))
    for n in range(20):
        s.add_update(upd(text=f"Tag {n}"), day(n))
    s.close()
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert BACKUPS_KEPT == 14
    assert names == [f"apbot-{day(n).date().isoformat()}" for n in range(6, 20)]
    # each backup holds the database as it was before that day's first write
    for n in (6, 19):
        backup = tmp_path / "backups" / f"apbot-{day(n).date().isoformat()}"
        texts = [u["text"] for u in on_disk_updates(backup)]
        assert texts == [f"Tag {k}" for k in range(n)]


# -- progress -------------------------------------------------------------------


def test_ap_progress_of_nothing() -> None:
    assert ap_progress([]) == APProgress(None, None, None, ())


def test_latest_state_and_percent_win_by_time_not_order() -> None:
    old = upd(text="alt", at=day(1), state="läuft", percent=20)
    new = upd(text="neu", at=day(5), state="verzögert", percent=35)
    middle = upd(text="mitte", at=day(3), state="blockiert", percent=30)
    for order in ([old, middle, new], [new, old, middle], [middle, new, old]):
        p = ap_progress(order)
        assert (p.state, p.percent, p.last_update) == ("verzögert", 35, day(5))
        assert p.recent == (new, middle, old)


def test_state_and_percent_come_from_the_latest_update_that_has_them() -> None:
    with_state = upd(at=day(1), state="blockiert")
    with_percent = upd(at=day(2), percent=60)
    plain = upd(text="nur Text", at=day(3))
    p = ap_progress([plain, with_percent, with_state])
    assert (p.state, p.percent, p.last_update) == ("blockiert", 60, day(3))


def test_zero_percent_counts_as_a_report() -> None:
    p = ap_progress([upd(at=day(1), percent=50), upd(at=day(2), percent=0)])
    assert p.percent == 0


def test_withdrawn_updates_are_ignored() -> None:
    live = upd(text="gilt", at=day(1), state="läuft", percent=30)
    withdrawn = upd(text="zurückgezogen", at=day(2), state="abgeschlossen", percent=100,
                    withdrawn=True)
    p = ap_progress([live, withdrawn])
    assert (p.state, p.percent, p.last_update, p.recent) == ("läuft", 30, day(1), (live,))
    assert ap_progress([withdrawn]) == APProgress(None, None, None, ())


def test_abgeschlossen_without_percent_means_100() -> None:
    p = ap_progress([upd(at=day(1), state="abgeschlossen")])
    assert (p.state, p.percent) == ("abgeschlossen", 100)


def test_abgeschlossen_keeps_an_explicit_percent_from_the_same_update() -> None:
    p = ap_progress([upd(at=day(1), state="abgeschlossen", percent=95)])
    assert p.percent == 95


def test_abgeschlossen_after_an_older_percent_means_100() -> None:
    p = ap_progress([upd(at=day(1), percent=60), upd(at=day(2), state="abgeschlossen")])
    assert (p.state, p.percent) == ("abgeschlossen", 100)


def test_recent_is_limited_and_newest_first() -> None:
    updates = [upd(text=f"#{n}", at=day(n)) for n in range(8)]
    p = ap_progress(reversed(updates), recent=3)
    assert [u.text for u in p.recent] == ["#7", "#6", "#5"]
    assert len(ap_progress(updates).recent) == 5


def test_reached_milestones() -> None:
    marks = [
        mark("M3.1", reached_on=date(2025, 11, 20), at=day(1)),
        mark("M2.1", reached_on=date(2026, 3, 1), at=day(2)),
        mark("M2.1", reached_on=date(2026, 3, 4), at=day(3), withdrawn=True),
        mark("M3.2", reached_on=date(2026, 5, 5), at=day(4), withdrawn=True),
    ]
    assert reached_milestones(marks) == {"M3.1": date(2025, 11, 20), "M2.1": date(2026, 3, 1)}
    assert reached_milestones([]) == {}


def test_reached_milestones_latest_mark_wins_in_any_order() -> None:
    early = mark("M3.1", reached_on=date(2025, 11, 20), at=day(1))
    correction = mark("M3.1", reached_on=date(2025, 11, 27), at=day(2))
    assert reached_milestones([correction, early]) == {"M3.1": date(2025, 11, 27)}
    assert reached_milestones([early, correction]) == {"M3.1": date(2025, 11, 27)}


def test_progress_from_the_store(store: Store) -> None:
    store.add_update(upd("AP3", at=day(1), percent=10), NOW)
    u = store.add_update(upd("AP3", at=day(2), state="verzögert"), NOW)
    store.add_update(upd("AP4", at=day(3), state="abgeschlossen"), NOW)
    store.save_update(replace(u, withdrawn=True), NOW)
    p = ap_progress(store.updates("AP3"))
    assert (p.state, p.percent, p.last_update) == (None, 10, day(1))


# -- the split log -----------------------------------------------------------------


def journal_lines(data_dir: Path) -> list[dict[str, dict[str, object]]]:
    journal = data_dir / "log" / "journal.jsonl"
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def test_a_write_of_the_log_appends_one_line_with_just_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflows.store import CHUNK

    s = Store.open(tmp_path, NOW)
    try:
        with s.transaction():
            for n in range(2 * CHUNK + 10):
                s.add_update(upd("AP3", f"Meldung {n}", message_id=n + 1), NOW)
        lines = journal_lines(tmp_path)
        assert len(lines) == 1, "a transaction is one line"
        assert sorted(lines[0]) == ["log-0001", "log-0002", "log-0003"]
        replaced: list[Path] = []
        real = storage_module.atomic_write

        def recording(path: Path, payload: bytes) -> None:
            replaced.append(path)
            real(path, payload)

        monkeypatch.setattr(storage_module, "atomic_write", recording)
        newest = s.add_update(upd("AP4", "neu", message_id="9999"), NOW)
        assert journal_lines(tmp_path)[-1] == {"log-0003": {
            str(newest.id): on_disk_log(tmp_path)[newest.id or 0]}}
        first = s.updates()[0]
        s.save_update(replace(first, withdrawn=True), NOW)  # an old record: only it
        assert list(journal_lines(tmp_path)[-1]) == ["log-0001"]
        assert list(journal_lines(tmp_path)[-1]["log-0001"]) == [str(first.id)]
        assert replaced == [], "no file is rewritten for a report"
        s.log_post("quarterly:Q1 2027", "sent", NOW, NOW)
        assert replaced == [tmp_path / "apbot.json"]
        assert len(journal_lines(tmp_path)) == 3
        assert s.updates("AP4") == [newest]
        assert s.updates_of_message(TEAM_CHAT, "9999") == [newest]
    finally:
        s.close()
    s = Store.open(tmp_path, NOW)
    try:
        assert len(s.updates()) == 2 * CHUNK + 11
        assert s.updates()[0].withdrawn
        assert s.updates("AP4")[0].text == "neu"
    finally:
        s.close()


def test_the_journal_is_folded_into_the_log_files(tmp_path: Path) -> None:
    from workflows.journal import LINES_KEPT
    from workflows.store import CHUNK

    s = Store.open(tmp_path, NOW)
    try:
        for n in range(LINES_KEPT - 1):
            s.add_update(upd("AP3", f"Meldung {n}", message_id=n + 1), NOW)
        assert sorted(p.name for p in (tmp_path / "log").iterdir()) == ["journal.jsonl"]
        before = on_disk_log(tmp_path)
        s.add_update(upd("AP3", "die letzte", message_id=LINES_KEPT), NOW)
        assert (tmp_path / "log" / "journal.jsonl").read_bytes() == b""
        chunks = LINES_KEPT // CHUNK
        assert sorted(p.name for p in (tmp_path / "log").glob("*.json")) == \
            [f"{n:04d}.json" for n in range(1, chunks + 1)]
        after = on_disk_log(tmp_path)
        assert len(after) == LINES_KEPT and {k: after[k] for k in before} == before
        s.add_update(upd("AP4", "danach", message_id=LINES_KEPT + 1), NOW)
        assert len(journal_lines(tmp_path)) == 1
    finally:
        s.close()
    s = Store.open(tmp_path, NOW)
    try:
        assert [u.text for u in s.updates()][-2:] == ["die letzte", "danach"]
    finally:
        s.close()


def test_a_large_transaction_is_folded_at_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import workflows.journal

    monkeypatch.setattr(workflows.journal, "BYTES_KEPT", 4000)
    s = Store.open(tmp_path, NOW)
    try:
        s.add_update(upd("AP3", "klein"), NOW)
        assert len(journal_lines(tmp_path)) == 1
        with s.transaction():
            for n in range(30):
                s.add_update(upd("AP4", f"Meldung {n}", message_id=n + 10), NOW)
        assert (tmp_path / "log" / "journal.jsonl").read_bytes() == b""
        assert len(on_disk_log(tmp_path)) == 31
    finally:
        s.close()


def test_a_fold_cut_short_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash (here: a failure) between writing the log files and emptying the journal."""
    from workflows.journal import LINES_KEPT, Journal

    def broken(self: Journal) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    s = Store.open(tmp_path, NOW)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(Journal, "clear", broken)
            for n in range(LINES_KEPT + 5):
                s.add_update(upd("AP3", f"Meldung {n}", message_id=n + 1), NOW)
        assert len(journal_lines(tmp_path)) == LINES_KEPT + 5  # still all there
        assert len(on_disk_log(tmp_path)) == LINES_KEPT + 5
        s.add_update(upd("AP3", "danach", message_id="9999"), NOW)  # folds now
        assert (tmp_path / "log" / "journal.jsonl").read_bytes() == b""
    finally:
        s.close()
    s = Store.open(tmp_path, NOW)
    try:
        assert len(s.updates()) == LINES_KEPT + 6
        assert len({u.message_id for u in s.updates()}) == LINES_KEPT + 6
    finally:
        s.close()


def test_a_torn_last_journal_line_was_never_confirmed_and_is_dropped(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    kept = s.add_update(upd("AP3", "bestätigt"), NOW)
    s.close()
    journal = tmp_path / "log" / "journal.jsonl"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"log-0001":{"2":{"type":"upd')  # a crash mid-write
    s = Store.open(tmp_path, NOW)
    try:
        assert s.updates() == [kept]
        assert journal.read_bytes() == whole, "the torn end is cut off"
        later = s.add_update(upd("AP4", "danach"), NOW)
    finally:
        s.close()
    s = Store.open(tmp_path, NOW)
    try:
        assert s.updates() == [kept, later]
    finally:
        s.close()


def test_a_damaged_journal_line_stops_start_up_and_is_named(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    s.add_update(upd("AP3", "eins"), NOW)
    s.add_update(upd("AP3", "zwei"), NOW)
    s.close()
    journal = tmp_path / "log" / "journal.jsonl"
    first, second = journal.read_bytes().splitlines(keepends=True)
    damaged = b"#" + first[1:] + second
    journal.write_bytes(damaged)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, NOW)
    assert str(journal) in str(info.value)
    assert "Zeile 1" in str(info.value)
    assert journal.read_bytes() == damaged


def test_a_chunk_that_does_not_parse_is_named(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    s.add_update(upd(), NOW)
    s.close()
    chunk = tmp_path / "log" / "0001.json"
    chunk.write_bytes(b'{"log-0001": {"1": ')
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, NOW)
    assert str(chunk) in str(info.value)
    assert chunk.read_bytes() == b'{"log-0001": {"1": '


def test_old_log_files_are_read_only_when_a_record_in_them_changes(tmp_path: Path) -> None:
    from workflows.store import CHUNK

    s = Store.open(tmp_path, NOW)
    with s.transaction():
        for n in range(3 * CHUNK):
            s.add_update(upd("AP3", f"Meldung {n}", message_id=n + 1), NOW)
    s.close()
    s = Store.open(tmp_path, NOW)
    try:
        held = s._storage.read() or {}
        assert sorted(name for name in held if name.startswith("log-")) == []
        first = s.updates()[0]
        s.save_update(replace(first, text="geändert"), NOW)  # reads log/0001.json
        assert sorted(name for name in held if name.startswith("log-")) == ["log-0001"]
        assert len(on_disk_updates(tmp_path)) == 3 * CHUNK  # nothing of the chunk was lost
        assert on_disk_updates(tmp_path)[0]["text"] == "geändert"
    finally:
        s.close()
