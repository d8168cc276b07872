"""Meetings through the conversation core: agenda, minutes, action items, edits, bad input."""

from __future__ import annotations

import io
import itertools
import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.messages import ButtonPress, Incoming, Reply
from bot.posts import compose, upcoming_posts
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.periods import Period
from workflows.report import period_report
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
BEFORE = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # Thursday; the Jour fixe meets Tuesdays 10:00
DURING = datetime(2026, 12, 1, 10, 5, tzinfo=TZ)
AFTER = datetime(2026, 12, 1, 11, 30, tzinfo=TZ)
TEAM, ADMIN, ANNA, BERT = "-100123", "1", "2", "3"
PEOPLE = {ADMIN: ("Chef", "chef"), ANNA: ("Anna Schmidt", "anna"), BERT: ("Bert Berg", "bert")}
_ids = itertools.count(5000)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, allowed_chat_ids=frozenset(), admin_ids=frozenset({ADMIN}),
                    timezone=TZ, data_dir=tmp_path / "data", plan_path=TEST_PLAN)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, BEFORE)
    yield s
    s.close()


def say(core: Core, text: str, now: datetime, user: str = ANNA, **fields: Any) -> list[Reply]:
    name, handle = PEOPLE[user]
    fields.setdefault("message_id", str(next(_ids)))
    return core.handle(Incoming(text=text, chat_id=TEAM, user_id=user, user_name=name,
                                chat_type="supergroup", user_handle=handle, **fields), now)


def text_of(core: Core, text: str, now: datetime, **fields: Any) -> str:
    replies = say(core, text, now, **fields)
    assert replies, f"no answer to {text!r}"
    return "\n".join(r.text for r in replies)


def press(core: Core, data: str, user: str, now: datetime) -> Any:
    name, handle = PEOPLE[user]
    return core.press(ButtonPress(data, TEAM, user, name, user_handle=handle), now)


def test_agenda_items_are_collected_and_shown_in_the_briefing(core: Core) -> None:
    assert "TOP 1 für Jour fixe" in text_of(core, "TOP: Haushalt 2027", BEFORE)
    assert "TOP 2" in text_of(core, "/top AP4 Portal-Relaunch", BEFORE, user=BERT)
    steering = text_of(core, "/top Steuerungsgruppe: Leitbild vorstellen", BEFORE)
    assert "Steuerungsgruppe Bildung am Mi., 13.01.2027" in steering
    replies = say(core, "/tagesordnung", BEFORE)
    agenda = replies[0].text
    assert "01.12.2026 10:00" in agenda
    assert "1. Haushalt 2027 – Anna Schmidt" in agenda
    assert "2. Portal-Relaunch (AP 4) – Bert Berg" in agenda
    assert "Leitbild vorstellen" not in agenda
    assert agenda.index("Tagesordnung") < agenda.index("Meldungen seit")
    assert [b.data for b in replies[0].buttons] == ["mtg:top:1", "mtg:top:2"]
    assert "Leitbild vorstellen" in text_of(core, "/tagesordnung Steuerungsgruppe", BEFORE)
    # The automatic summary before the meeting carries the agenda too.
    post = next(p for p in upcoming_posts(core.ctx, BEFORE, BEFORE + timedelta(days=6))
                if p.kind == "meeting" and p.subject == "jour-fixe")
    assert "1. Haushalt 2027" in compose(core.ctx, post, False, post.at)


def test_minutes_during_a_meeting_only_and_commands_at_any_time(core: Core) -> None:
    # Outside a meeting "Beschluss:" is an ordinary message (here: not addressed, silent).
    assert say(core, "Beschluss: Saal bleibt", BEFORE) == []
    assert core.ctx.store.entries() == []
    assert "Beschluss Nr. 1" in text_of(core, "/beschluss Saal bleibt", BEFORE)
    taken = text_of(core, "Beschluss: Haushalt im Januar", DURING)
    assert "ins Protokoll Jour fixe Koordinierungsteam" in taken
    task = say(core, "Aufgabe: @bert bis 15.12. Einladung BiKo versenden (AP3)", DURING)
    assert "Verantwortlich: @bert · bis Di., 15.12.2026" in task[0].text
    assert [b.label for b in task[0].buttons] == ["Erledigt"]
    text_of(core, "Info: Portal im März (AP4)", DURING)
    text_of(core, "AP3: Einladungen verschickt, 60 %", DURING)
    kinds = [(e.kind, e.meeting) for e in core.ctx.store.entries()]
    assert kinds == [("beschluss", None), ("beschluss", "jour-fixe"), ("aufgabe", "jour-fixe"),
                     ("info", "jour-fixe")]
    assert core.ctx.store.updates()[0].ap == "AP3"  # the report is a report, as before
    minutes = next(p for p in upcoming_posts(core.ctx, DURING, AFTER) if p.kind == "minutes")
    assert minutes.at == datetime(2026, 12, 1, 11, 0, tzinfo=TZ)
    text = compose(core.ctx, minutes, False, minutes.at)
    for needle in ("Protokoll: Jour fixe Koordinierungsteam – Di., 01.12.2026, 10:00–11:00",
                   "Haushalt im Januar", "@bert: Einladung BiKo versenden (AP 3) – bis Di., "
                   "15.12.2026", "Portal im März (AP 4)", "AP 3 – Anna Schmidt: AP3: "
                   "Einladungen verschickt"):
        assert needle in text
    assert "Saal bleibt" not in text


def test_bad_input_gets_one_sentence_and_keeps_nothing(core: Core) -> None:
    for message, words in [
        ("Beschluss:", "ohne Text"),
        ("Aufgabe: @anna bis 15.12. Einladung (AP17)", "AP 17 gibt es nicht"),
        ("Aufgabe: @anna bis 20.11.2026 Flyer", "in der Vergangenheit"),
        ("Aufgabe: @anna bis Sankt Nimmerlein Flyer", "nicht als Datum"),
    ]:
        replies = say(core, message, DURING)
        assert len(replies) == 1 and words in replies[0].text
    assert core.ctx.store.entries() == []
    assert "kein Protokoll" in text_of(core, "/protokoll 24.11.2026", AFTER)
    assert "kein Protokoll" in text_of(core, "/protokoll", AFTER)
    say(core, "/aufgabe @bert Raum buchen", BEFORE)
    refused = press(core, "mtg:done:1", ANNA, BEFORE)
    assert "nur, wer die Aufgabe hat (@bert), oder ein Admin" in refused.notice
    assert core.ctx.store.entry(1).done_at is None  # type: ignore[union-attr]
    assert "kenne ich nicht" in press(core, "mtg:done:²", ANNA, BEFORE).notice


def test_edits_correct_the_item_they_created(core: Core) -> None:
    mid = "777"
    say(core, "Aufgabe: @anna bis 15.12. Einladung versenden", DURING, message_id=mid)
    changed = text_of(core, "Aufgabe: @bert bis 16.12. Einladung versenden (AP3)", DURING,
                      message_id=mid, edited=True)
    assert "geändert" in changed and "@bert" in changed
    (entry,) = core.ctx.store.entries()
    assert (entry.owner, entry.due, entry.ap) == ("@bert", date(2026, 12, 16), "AP3")
    kept = text_of(core, "Aufgabe: @bert bis Sankt Nimmerlein", DURING, message_id=mid,
                   edited=True)
    assert "bleibt, wie sie war" in kept
    assert core.ctx.store.entries()[0].due == date(2026, 12, 16)
    gone = text_of(core, "Einladung ist raus", DURING, message_id=mid, edited=True)
    assert "gestrichen" in gone and core.ctx.store.entries()[0].withdrawn
    say(core, "/aufgabe @anna Bericht", BEFORE, message_id="779")  # an edited command too
    text_of(core, "/aufgabe @anna bis 10.12. Bericht (AP2)", BEFORE, message_id="779",
            edited=True)
    assert core.ctx.store.entries()[1].due == date(2026, 12, 10)
    say(core, "TOP: Haushalt", BEFORE, message_id="778")
    text_of(core, "TOP: Haushalt 2027 (AP5)", BEFORE, message_id="778", edited=True)
    (item,) = core.ctx.store.agenda_items()
    assert (item.text, item.ap) == ("Haushalt 2027", "AP5")


def test_action_items_listed_and_done_by_button_reply_or_command(core: Core) -> None:
    say(core, "/aufgabe @bert bis Freitag Raum buchen", BEFORE, message_id="901")
    say(core, "/aufgabe ich bis 10.12. Catering (AP3)", BEFORE)
    say(core, "/aufgabe @bert Flyer", BEFORE, user=ADMIN)
    listing = say(core, "/aufgaben", BEFORE)[0]
    assert listing.text.index("@bert") < listing.text.index("Anna Schmidt")
    assert "Nr. 1 Raum buchen – bis Fr., 27.11.2026" in listing.text
    assert [b.data for b in listing.buttons] == ["mtg:done:1:l", "mtg:done:2:l", "mtg:done:3:l"]
    mine = text_of(core, "/aufgaben ich", BEFORE)
    assert "Catering" in mine and "Raum buchen" not in mine
    assert "Raum buchen" in text_of(core, "/aufgaben ich", BEFORE, user=BERT)
    result = press(core, "mtg:done:1:l", BERT, BEFORE)  # from the list: told in the chat
    assert result.notice == "Erledigt." and "Aufgabe Nr. 1 erledigt" in result.posts[0][1].text
    assert "schon erledigt" in press(core, "mtg:done:1", BERT, BEFORE).notice
    for forged in ("mtg:done:1:x", "mtg:done:1:l:l", "mtg:top:x", "mtg:"):
        assert "kenne ich nicht" in press(core, forged, BERT, BEFORE).notice
    # "erledigt" as a reply to the reminder (its text names the number) or to the message.
    done = text_of(core, "erledigt", BEFORE, reply_to_bot=True,
                   reply_to_text="⏰ Aufgabe Nr. 2 ist heute fällig – Anna Schmidt: Catering")
    assert "Aufgabe Nr. 2 erledigt" in done
    assert "Aufgabe Nr. 3 erledigt" in text_of(core, "/erledigt 3", BEFORE, user=ADMIN)
    say(core, "/aufgabe ich Nachtrag", BEFORE)
    pressed = press(core, "mtg:done:4", ANNA, BEFORE)  # under its confirmation: replaced
    assert pressed.posts == () and "Aufgabe Nr. 4 erledigt" in (pressed.new_text or "")
    assert "keine" in text_of(core, "/aufgaben", BEFORE)
    status = text_of(core, "/status AP3", BEFORE)
    assert "Offene Aufgaben" not in status  # all done


def test_status_and_sachbericht_show_decisions_and_done_items(core: Core) -> None:
    say(core, "Beschluss: Zwei BiKos im Jahr (AP3)", DURING)
    say(core, "Aufgabe: @anna bis 15.12. Einladung (AP3)", DURING)
    say(core, "Aufgabe: @anna Programm (AP3)", DURING)
    status = text_of(core, "/status AP3", DURING)
    assert "<b>Offene Aufgaben</b>" in status and "Zwei BiKos im Jahr" in status
    say(core, "/erledigt 2", DURING)
    store = core.ctx.store
    report = period_report(core.ctx.plan, store.updates(), store.marks(),
                           Period(date(2026, 10, 1), date(2026, 12, 31), "Q4 2026", "quarter"),
                           date(2026, 12, 2), store.entries())
    row = next(r for r in report.rows if r.wp.id == "AP3")
    assert [e.text for e in row.decisions] == ["Zwei BiKos im Jahr"]
    assert [e.text for e in row.done_tasks] == ["Einladung"]
    files = [r.attachment for r in say(core, "/bericht Q4 2026",
                                       datetime(2026, 12, 2, 9, 0, tzinfo=TZ)) if r.attachment]
    with zipfile.ZipFile(io.BytesIO(files[0].data)) as docx:  # the Word file by default
        text = docx.read("word/document.xml").decode()
    assert "Beschlüsse im Berichtszeitraum" in text and "Zwei BiKos im Jahr" in text
    assert "Erledigte Aufgaben im Berichtszeitraum" in text and "Einladung (@anna)" in text


def test_minutes_by_command_with_start_and_end_and_the_word_file(core: Core) -> None:
    start = datetime(2026, 12, 3, 15, 0, tzinfo=TZ)  # no meeting in the plan then
    assert "Gerade läuft keine Sitzung" in text_of(core, "/sitzung_ende", start)
    assert "beginnt" in text_of(core, "/sitzung_start", start)
    assert "läuft schon" in text_of(core, "/sitzung_start", start + timedelta(minutes=1))
    say(core, "Beschluss: Sondersitzung im Januar", start + timedelta(minutes=10))
    say(core, "TOP: Nachtrag", start + timedelta(minutes=11))  # goes to the running sitting
    assert "TOP 1 besprochen" in text_of(core, "TOP 1 besprochen", start + timedelta(minutes=12))
    assert "beendet" in text_of(core, "/sitzung_ende", start + timedelta(minutes=30))
    posts = [p for p in upcoming_posts(core.ctx, start, start + timedelta(hours=2))
             if p.kind == "minutes"]
    assert [p.at for p in posts] == [start + timedelta(minutes=30)]
    replies = say(core, "/protokoll 03.12.2026", start + timedelta(hours=1))
    assert "Sondersitzung im Januar" in replies[0].text
    assert "1. Nachtrag – Anna Schmidt ✓ besprochen" in replies[0].text
    attachment = replies[1].attachment
    assert attachment is not None and attachment.filename.endswith(".docx")
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as docx:
        body = docx.read("word/document.xml").decode()
    assert "Sondersitzung im Januar" in body and "Beschlüsse" in body
    pdf = say(core, "/protokoll 03.12.2026 pdf", start + timedelta(hours=1))[1].attachment
    assert pdf is not None and pdf.filename.endswith(".pdf") and pdf.data.startswith(b"%PDF")


def test_meeting_records_of_a_schema_1_database_get_text_ids(tmp_path: Path) -> None:
    """Agenda items and minutes entries written while ids were numbers (schema 1)."""
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).parent / "fixtures" / "db-schema-1", data)
    db = json.loads((data / "apbot.json").read_text(encoding="utf-8"))
    common = {"author_id": 1001, "author_name": "Anna", "at": BEFORE.isoformat(),
              "chat_id": -1001234567890, "message_id": 77}
    db["agenda_items"] = {"1": {**common, "meeting": "jour-fixe", "occurrence":
                                BEFORE.isoformat(), "text": "Haushalt", "ap": None,
                                "dealt_at": None, "withdrawn": False}}
    db["minutes_entries"] = {"1": {**common, "kind": "aufgabe", "text": "Flyer",
                                   "meeting": None, "occurrence": None, "ap": None,
                                   "owner": "Anna", "owner_id": 1001, "due": None,
                                   "done_at": None, "done_by": None, "withdrawn": False}}
    (data / "apbot.json").write_text(json.dumps(db), encoding="utf-8")
    store = Store.open(data, BEFORE)
    try:
        (item,) = store.agenda_items()
        (entry,) = store.entries()
        assert (item.author.id, item.chat_id, item.message_id) == ("1001", "-1001234567890",
                                                                  "77")
        assert (entry.owner_id, entry.chat_id) == ("1001", "-1001234567890")
        assert store.entries_of_message("-1001234567890", "77") == [entry]
    finally:
        store.close()
    on_disk = json.loads((data / "apbot.json").read_text(encoding="utf-8"))
    assert on_disk["minutes_entries"]["1"]["owner_id"] == "1001"
    assert on_disk["agenda_items"]["1"]["message_id"] == "77"
