"""End-to-end: the team moves a milestone in the chat and everything follows (issue 13).

The real process at 08.12.2026 07:59:45 (tests/clocked_bot.py): an admin moves M3.3 from
31.12.2026 to 15.12.2026, so its 7-day reminder falls on today, 08:00 — 15 seconds on.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.bot_process import ADMIN_ID, MEMBER_ID, BotProcess, bot_env
from tests.fake_bot_api import DEFAULT_GROUP_ID, FakeBotAPI
from workflows.plan import load_plan
from workflows.store import Store

pytestmark = pytest.mark.e2e
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 8, 7, 59, 45, tzinfo=BERLIN)  # a Tuesday


def reminders(api: FakeBotAPI) -> list[str]:
    return [str(m["text"]) for m in api.sent_messages(DEFAULT_GROUP_ID)
            if str(m.get("text")).startswith("⏳ <b>Erinnerung:</b>") and "M3.3" in str(m["text"])]


def sent_with(api: FakeBotAPI, text: str) -> dict[str, object]:
    """The bot's message (as Telegram keeps it, with its buttons) that contains `text`."""
    calls = api.wait_for("sendMessage", predicate=lambda c: c.ok and text in str(
        c.params.get("text")))
    return calls[-1].result  # type: ignore[no-any-return]


def test_an_admin_moves_a_milestone_and_everything_follows(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    bot_env(data)  # puts the test plan into the data directory
    store = Store.open(data, START)
    store.set_last_post_check(START - timedelta(minutes=1))  # ran just now: nothing to catch up
    store.close()
    with FakeBotAPI(can_read_all_group_messages=True) as api:
        bot = BotProcess(api, data, log, now=START)
        try:
            bot.start()
            member = api.push_message("/faellig M3.3 15.12.2026", user_id=MEMBER_ID,
                                      first_name="Max")
            refused = api.wait_for_reply(member)
            assert str(refused.params["text"]).startswith("Den Plan ändern nur die Admins")

            api.push_message("/faellig M3.3 15.12.2026", user_id=ADMIN_ID)
            preview = sent_with(api, "Vorschau")
            assert "15.12.2026 statt 31.12.2026" in str(preview["text"])
            assert "Erinnerungen für M3.3 kommen dann am" in str(preview["text"])
            api.click_button(preview, "Übernehmen", user_id=MEMBER_ID, first_name="Max")
            api.click_button(preview, "Übernehmen", user_id=ADMIN_ID)
            announcement = sent_with(api, "Plan geändert von Anna")

            api.push_message("/status AP3", user_id=MEMBER_ID, first_name="Max")
            status = api.wait_for_text("Bildungskonferenzen", chat_id=DEFAULT_GROUP_ID)
            assert "M3.3 BiKo hat stattgefunden – fällig Di., 15.12.2026" in str(status["text"])

            # The reminder for the new date comes at 08:00, today; none for the old one.
            api.wait_for("sendMessage", timeout=30, predicate=lambda c: c.ok and str(
                c.params.get("text")).startswith("⏳ <b>Erinnerung:</b>"))
            [reminder] = reminders(api)
            assert "15.12.2026" in reminder and "31.12.2026" not in reminder

            bot.stop()
            bot.start()  # a restart keeps the change
            api.push_message("/status AP3", user_id=MEMBER_ID, first_name="Max")
            api.wait_for("sendMessage", count=2, predicate=lambda c: "Bildungskonferenzen" in
                         str(c.params.get("text")))
            last = [m for m in api.sent_messages(DEFAULT_GROUP_ID)
                    if "Bildungskonferenzen" in str(m.get("text"))][-1]
            assert "15.12.2026" in str(last["text"])

            api.click_button(announcement, "Rückgängig", user_id=ADMIN_ID)
            api.wait_for("editMessageText", predicate=lambda c: "Zurückgenommen" in str(
                c.params.get("text")))
        finally:
            bot.stop()
    plan = load_plan(data / "plan.toml")
    assert plan.milestone("M3.3").due.isoformat() == "2026-12-31"  # type: ignore[union-attr]
    assert len(reminders(api)) == 1, "no second reminder, none for the old date"


def test_a_workbook_sent_back_is_previewed_and_applied(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI(can_read_all_group_messages=True) as api, BotProcess(api, data, log):
        api.push_message("/plan_excel", user_id=ADMIN_ID)
        sent = api.wait_for("sendDocument", predicate=lambda c: c.ok)[-1]
        [upload] = sent.files.values()
        assert upload.filename == "arbeits-und-zeitplan.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(upload.data))
        sheet = book["Meilensteine"]
        row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "M3.2")
        row[3].value = date(2026, 5, 15)  # Fällig
        edited = io.BytesIO()
        book.save(edited)

        document = api.add_file(edited.getvalue(), "arbeits-und-zeitplan.xlsx")
        api.push_message(None, user_id=ADMIN_ID, document=document)
        preview = sent_with(api, "Vorschau")
        assert "M3.2" in str(preview["text"]) and "15.05.2026" in str(preview["text"])
        api.click_button(preview, "Übernehmen", user_id=ADMIN_ID)
        sent_with(api, "Plan geändert von Anna")
    assert load_plan(data / "plan.toml").milestone("M3.2").due.isoformat() == "2026-05-15"  # type: ignore[union-attr]
