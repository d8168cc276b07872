"""End-to-end: /zeitplan, /kalender, /bericht and /meldungen as multipart uploads to the local
fake Bot API."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from icalendar import Calendar

from bot.render.gantt import PHONE_WIDTH
from tests.bot_process import MEMBER_ID, BotProcess
from tests.fake_bot_api import DEFAULT_GROUP_ID, Call, FakeBotAPI
from tests.office_files import docx_lines, pdf_pages

pytestmark = pytest.mark.e2e

FIRST_CHART = 60.0  # the first chart loads matplotlib (and may build its font cache)
OTHER_GROUP = -100999


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(can_read_all_group_messages=True) as fake:
        yield fake


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    return width, height


def ok(call: Call) -> bool:
    return call.ok


def assert_upload(call: Call, field: str, filename_end: str) -> bytes:
    """The call was a multipart upload of one well-formed file part; its bytes."""
    assert call.content_type == "multipart/form-data"
    upload = call.files[field]
    assert upload.field == field
    assert upload.filename is not None and upload.filename.endswith(filename_end)
    assert upload.size == len(upload.data) > 0
    assert call.params["chat_id"] == DEFAULT_GROUP_ID
    assert call.params["parse_mode"] == "HTML"
    return upload.data


def test_chart_calendar_and_report_arrive_as_files(api: FakeBotAPI, tmp_path: Path) -> None:
    march = int(datetime(2026, 3, 10, 9, tzinfo=ZoneInfo("Europe/Berlin")).timestamp())
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as bot:
        api.push_message("AP3: Einladungen verschickt, 60 %", user_id=MEMBER_ID,
                         first_name="Ben", date=march)
        api.wait_for("sendMessage", predicate=ok)

        api.push_message("/zeitplan")
        [photo] = api.wait_for("sendPhoto", predicate=ok, timeout=FIRST_CHART)
        data = assert_upload(photo, "photo", ".png")
        width, height = png_size(data)
        assert width == PHONE_WIDTH and height <= 1280  # Telegram's largest photo: unscaled
        assert photo.params["caption"].startswith("📊 <b>Arbeits- und Zeitplan</b>, Stand ")

        api.push_message("/kalender")
        [calendar] = api.wait_for("sendDocument", predicate=ok)
        cal = Calendar.from_ical(assert_upload(calendar, "document", ".ics"))
        assert len(cal.walk("VEVENT")) == 8
        assert calendar.params["caption"].startswith("📅 <b>Kalender</b>")

        api.push_message("/bericht 2026")
        report = api.wait_for("sendDocument", count=2, predicate=ok)[1]
        lines = docx_lines(assert_upload(report, "document", "sachbericht-2026.docx"))
        assert lines[0] == "Sachbericht 2026"
        assert "10.03.2026, Ben: AP3: Einladungen verschickt, 60 %" in lines
        assert report.params["caption"].startswith("📝 <b>Sachbericht 2026</b>")

        api.push_message("/bericht 2026 pdf")
        pdf = api.wait_for("sendDocument", count=3, predicate=ok)[2]
        pages = pdf_pages(assert_upload(pdf, "document", "sachbericht-2026.pdf"))
        assert pages[0].startswith("Sachbericht 2026\n")
        assert " als PDF, ein Entwurf aus der 1 Meldung des Zeitraums" in pdf.params["caption"]

        api.push_message("/meldungen")
        book = api.wait_for("sendDocument", count=4, predicate=ok)[3]
        sheet = openpyxl.load_workbook(io.BytesIO(assert_upload(
            book, "document", "meldungen.xlsx")))["Meldungen"]
        assert [c.value for c in sheet[2]][3:7] == [
            "AP 3", "Bildungskonferenzen", "Ben", "AP3: Einladungen verschickt, 60 %"]
        assert book.params["caption"].startswith("📗 <b>Meldungen</b> als Excel-Datei: alle "
                                                 "Meldungen, 1 Zeile")

        # Nobody outside the team gets the files.
        api.push_message("/zeitplan", chat_id=OTHER_GROUP)
        api.push_message("/kalender", chat_id=OTHER_GROUP)
        refusals = api.wait_for("sendMessage", count=2,
                                predicate=lambda c: c.ok and c.params["chat_id"] == OTHER_GROUP)
        assert all("nur für das Koordinierungsteam" in c.params["text"] for c in refusals)
        assert len(api.calls("sendPhoto")) == 1 and len(api.calls("sendDocument")) == 4
        assert "Traceback" not in bot.log()


def test_chart_falls_back_to_a_document_then_to_text(api: FakeBotAPI, tmp_path: Path) -> None:
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as bot:
        api.reject("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        api.push_message("/gantt")
        document = api.wait_for("sendDocument", predicate=ok, timeout=FIRST_CHART)[0]
        [refused] = api.calls("sendPhoto")
        assert refused.status == 400
        assert_upload(refused, "photo", ".png")  # the photo was tried as an upload first
        data = assert_upload(document, "document", ".png")
        assert png_size(data)[0] == PHONE_WIDTH
        assert document.params["caption"].startswith("📊 <b>Arbeits- und Zeitplan</b>")

        api.reject("sendDocument", 400, "Bad Request: file is too big")
        api.push_message("/zeitplan")
        timeline = api.wait_for("sendMessage", predicate=ok)[0]
        text = timeline.params["text"]
        assert text.startswith("<b>Arbeits- und Zeitplan</b> – Stand ")
        assert "<pre>" in text and "AP 13" in text and "^ heute" in text
        assert timeline.params["chat_id"] == DEFAULT_GROUP_ID
        assert len(api.calls("sendPhoto")) == 2 and len(api.calls("sendDocument")) == 2
        assert "sendPhoto failed" in bot.log()  # logged as a warning, not a crash
        assert "Traceback" not in bot.log()
