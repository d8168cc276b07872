"""Schema 1 → 2: a database written by the release that stored ids as numbers.

`tests/fixtures/db-schema-1` was written by that release's Store (numeric Telegram ids, a
withdrawn record, a console record, a post, a chat migration, a plan proposal and change).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.store import SCHEMA_VERSION, Store

FIXTURE = Path(__file__).parent / "fixtures" / "db-schema-1"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
CHAT = "-1001234567890"


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "apbot.lock"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURE, target)
    return target


def raw_log(data_dir: Path) -> list[dict[str, object]]:
    """Every log document as on disk: the chunk files, then the journal's lines (last wins)."""
    docs: dict[tuple[str, str], dict[str, object] | None] = {}
    for chunk in sorted((data_dir / "log").glob("*.json")):
        for name, table in json.loads(chunk.read_text(encoding="utf-8")).items():
            docs.update({(name, doc_id): doc for doc_id, doc in table.items()})
    journal = data_dir / "log" / "journal.jsonl"
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            for name, table in json.loads(line).items():
                docs.update({(name, doc_id): doc for doc_id, doc in table.items()})
    return [doc for doc in docs.values() if doc is not None]


def test_the_fixture_is_a_version_1_database() -> None:
    meta = json.loads((FIXTURE / "apbot.json").read_text(encoding="utf-8"))["meta"]
    assert meta["1"]["schema"] == 1
    assert any(isinstance(d["chat_id"], int) for d in raw_log(FIXTURE))


def test_opening_converts_every_id_to_text_and_keeps_every_record(data_dir: Path) -> None:
    before = files(data_dir)
    store = Store.open(data_dir, NOW)
    try:
        assert store.schema_version == SCHEMA_VERSION == 2
        updates, marks = store.updates(), store.marks()
        assert [(u.ap, u.author.id, u.chat_id, u.message_id) for u in updates] == [
            ("AP3", "101", CHAT, "11"), ("AP8", "202", CHAT, "12"), ("AP4", "101", CHAT, "13"),
            ("AP5", "0", "0", "-1763629200000")]
        assert [u.percent for u in updates][:1] == [60]
        withdrawn = [u for u in updates if u.withdrawn]
        assert [(u.ap, u.withdrawn_by) for u in withdrawn] == [("AP4", "14")]
        assert [(m.milestone, m.author.id, m.message_id) for m in marks] == [("M3.1", "101", "15")]
        assert store.updates_of_message(CHAT, "11")[0].text == "AP3: Einladungen verschickt, 60 %"
        assert store.chat_migrations() == {"-4001": CHAT}
        assert store.plan_proposal(1)["by"] == "1"
        assert store.plan_proposal(1)["chat"] == CHAT
        assert store.plan_changes()[0]["by"] == "1"
    finally:
        store.close()
    # On disk: text ids everywhere, schema 2; the database as it was is kept, unchanged.
    assert all(isinstance(d["chat_id"], str) and isinstance(d["author_id"], str)
               for d in raw_log(data_dir))
    main = json.loads((data_dir / "apbot.json").read_text(encoding="utf-8"))
    assert main["meta"]["1"]["schema"] == 2
    assert [p["chat_id"] for p in main["posts"].values()] == [CHAT]
    assert files(data_dir / "backups" / "before-schema-2") == before


def test_a_converted_database_opens_again_unchanged(data_dir: Path) -> None:
    Store.open(data_dir, NOW).close()
    after = files(data_dir)
    store = Store.open(data_dir, NOW)
    try:
        assert len(store.updates()) == 4
    finally:
        store.close()
    assert files(data_dir) == after
    assert not (data_dir / "backups" / "before-schema-2-2").exists()


def test_a_read_only_look_at_a_version_1_database_changes_nothing(data_dir: Path) -> None:
    before = files(data_dir)
    store = Store.open(data_dir, NOW, read_only=True)
    try:
        assert store.schema_version == 1
        assert [u.chat_id for u in store.updates()] == [CHAT, CHAT, CHAT, "0"]
    finally:
        store.close()
    assert files(data_dir) == before
    assert not (data_dir / "backups").exists()


def test_a_conversion_that_cannot_back_up_first_changes_nothing(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = files(data_dir)

    def no_space(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", no_space)
    with pytest.raises(Exception) as info:
        Store.open(data_dir, NOW)
    assert "Sicherung" in str(info.value) and "nichts verändert" in str(info.value)
    assert files(data_dir) == before
