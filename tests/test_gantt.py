"""/zeitplan: the Gantt chart as a PNG, its text timeline, the command and `python -m bot gantt`."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread

import bot.gantt
from bot.console import Console
from bot.core import Core
from bot.files import gantt_attachment
from bot.gantt import PIXEL_WIDTH, STATE_STYLES, pixel_height, render_gantt
from bot.messages import Incoming, Reply
from bot.settings import Settings
from bot.timeline import timeline_text
from tests.conftest import TEST_PLAN
from tests.run_cli import run_cli
from workflows.plan import Plan, parse_plan
from workflows.progress import STATES, Author, MilestoneMark, Update
from workflows.queries import plan_overview
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TODAY = NOW.date()
TEAM = -100123
ANNA = Author(2, "Anna")

SINGLE_AP = """
[programme]
name = "Kleiner Plan"
start = "Q3 2025"
end = "Q2 2026"

[[work_package]]
id = "AP1"
title = "Das einzige Arbeitspaket"
start = "Q3 2025"
end = "Q2 2026"

[[milestone]]
id = "M1.1"
ap = "AP1"
title = "Fertig"
due = "Q2 2026"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({1}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=PLAN_PATH)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking signature and CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    (crc,) = struct.unpack(">I", data[16 + length:20 + length])
    assert crc == zlib.crc32(data[12:16 + length])
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_valid_png(data: bytes, rows: int) -> None:
    assert png_size(data) == (PIXEL_WIDTH, pixel_height(rows))
    assert data.endswith(b"IEND\xaeB`\x82")
    pixels = imread(io.BytesIO(data))  # decodes every byte of the image data
    assert pixels.shape[:2] == (pixel_height(rows), PIXEL_WIDTH)


def update(ap: str, at: datetime, state: str | None = None, percent: int | None = None,
           text: str = "Meldung") -> Update:
    return Update(ap=ap, text=text, author=ANNA, chat_id=TEAM, message_id=None, at=at,
                  state=state, percent=percent)


def mark(milestone: str, reached_on: date) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=reached_on, author=ANNA, chat_id=TEAM,
                         message_id=None, at=datetime.combine(reached_on, NOW.timetz()))


def fill(store: Store, plan: Plan) -> None:
    """Every AP reported, in every state in turn; M2.1 and M3.1 reached."""
    for n, wp in enumerate(plan.work_packages):
        store.add_update(update(wp.id, datetime(2026, 3, 1 + n, 9, tzinfo=TZ),
                                state=STATES[n % len(STATES)], percent=(n * 9) % 101), NOW)
    store.add_mark(mark("M2.1", date(2026, 3, 20)), NOW)
    store.add_mark(mark("M3.1", date(2026, 6, 12)), NOW)


def chart(plan: Plan, store: Store, today: date = TODAY) -> bytes:
    return render_gantt(plan, plan_overview(plan, store.updates(), store.marks(), today), today)


# -- the picture -------------------------------------------------------------------


def test_chart_of_an_empty_store_is_a_png_1600_px_wide(plan: Plan, store: Store) -> None:
    assert_valid_png(chart(plan, store), len(plan.work_packages))


def test_chart_of_a_full_store(plan: Plan, store: Store) -> None:
    fill(store, plan)
    statuses = plan_overview(plan, store.updates(), store.marks(), TODAY)
    assert {st.progress.state for st in statuses} == set(STATES)  # every style is drawn
    kinds = {ms.kind for st in statuses for ms in st.milestones}
    assert kinds == {"erreicht", "überfällig", "bald", "offen"}
    assert_valid_png(render_gantt(plan, statuses, TODAY), len(plan.work_packages))


def test_chart_with_every_milestone_reached(plan: Plan, store: Store) -> None:
    for m in plan.milestones:
        store.add_mark(mark(m.id, min(m.due, TODAY)), NOW)
    statuses = plan_overview(plan, store.updates(), store.marks(), TODAY)
    assert all(ms.kind == "erreicht" for st in statuses for ms in st.milestones)
    assert_valid_png(render_gantt(plan, statuses, TODAY), len(plan.work_packages))


def test_chart_of_a_plan_with_a_single_ap(store: Store) -> None:
    small = parse_plan(SINGLE_AP, Path("klein.toml"))
    assert_valid_png(chart(small, store, date(2026, 1, 15)), 1)


@pytest.mark.parametrize("today", [date(2024, 6, 1), date(2025, 1, 1), date(2027, 6, 30),
                                   date(2031, 1, 1)])
def test_chart_with_today_at_or_beyond_the_programme_edges(plan: Plan, store: Store,
                                                           today: date) -> None:
    assert_valid_png(chart(plan, store, today), len(plan.work_packages))


def test_every_state_has_its_own_hatching_or_lightness(plan: Plan) -> None:
    # Not by colour alone: two unhatched states must differ clearly in lightness.
    def lightness(colour: str) -> float:
        r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    plain = [s for s in STATE_STYLES.values() if not s.hatch]
    assert len({s.hatch for s in STATE_STYLES.values() if s.hatch}) == len(STATE_STYLES) - len(
        plain)
    assert len(plain) == 2 and abs(lightness(plain[0].colour) - lightness(plain[1].colour)) > 0.4
    assert set(STATES) <= set(STATE_STYLES)


# -- the text timeline ------------------------------------------------------------


def test_timeline_at_a_fixed_date(plan: Plan, store: Store) -> None:
    fill(store, plan)
    statuses = plan_overview(plan, store.updates(), store.marks(), TODAY)
    text = timeline_text(plan, statuses, TODAY)
    assert text.startswith("<b>Arbeits- und Zeitplan</b> – Stand 26.11.2026\n<pre>")
    pre = text.split("<pre>")[1].split("</pre>")[0].split("\n")
    assert pre[0] == "       2025 2026 2027"
    assert pre[1] == "       1234 1234 12"
    assert pre[2] == "AP 1   ==.. .... ..    läuft · 0 %"
    assert pre[3] == "AP 2   ==== *... ..    verzögert · 9 %"
    assert pre[4] == "AP 3   ===* =!=o =o    blockiert · 18 %"
    assert pre[-1] == "               ^ heute"  # under Q4 2026
    assert "! überfällig" in text
    assert "* M3.1 BiKo hat stattgefunden – erreicht 12.06.2026" in text
    assert "! M3.2 BiKo hat stattgefunden – fällig 30.06.2026 (überfällig)" in text
    assert "o M13.1 Bericht Fachkräfte – fällig 30.06.2027" in text


def test_timeline_says_when_nothing_was_reported(plan: Plan, store: Store) -> None:
    text = timeline_text(plan, plan_overview(plan, [], [], TODAY), TODAY)
    assert "AP 13  .... ==== ==    keine Meldung" in text.replace("=o", "==")


# -- the command ------------------------------------------------------------------


def ask(core: Core, text: str, chat_id: int = TEAM, chat_type: str = "supergroup") -> list[Reply]:
    return core.handle(Incoming(text=text, chat_id=chat_id, user_id=2, user_name="Anna",
                                chat_type=chat_type, message_id=1), NOW)


@pytest.mark.parametrize("command", ["/zeitplan", "/gantt", "/zeitplan@apbot_test_bot"])
def test_zeitplan_sends_the_chart_as_a_photo(core: Core, command: str) -> None:
    core = core.with_identity("apbot_test_bot", True)
    [reply] = ask(core, command)
    file = reply.attachment
    assert file is not None and reply.text == ""
    assert file.kind == "photo" and file.filename == "zeitplan-2026-11-26.png"
    assert_valid_png(file.data, 13)
    assert file.caption.startswith("📊 <b>Arbeits- und Zeitplan</b>, Stand 26.11.2026")
    assert "überfällig" in file.caption and len(file.caption) <= 1024
    assert "<pre>" in file.fallback_text and "AP 13" in file.fallback_text


def test_zeitplan_only_in_allowed_chats(core: Core) -> None:
    [reply] = ask(core, "/zeitplan", chat_id=-100999)
    assert reply.attachment is None
    assert "nur für das Koordinierungsteam" in reply.text
    [private] = ask(core, "/zeitplan", chat_id=2, chat_type="private")  # Anna is no admin
    assert private.attachment is None


def test_zeitplan_answers_with_the_timeline_when_the_chart_fails(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.gantt, "render_gantt", broken)
    [reply] = ask(core, "/zeitplan")
    assert reply.attachment is not None
    assert not reply.attachment.is_rendered  # drawn by the front-end, off the event loop
    out = io.StringIO()
    Console(core, lambda: NOW, out).say("/zeitplan")
    assert out.getvalue().startswith("Arbeits- und Zeitplan")
    assert "Datei gespeichert" not in out.getvalue()


def test_console_saves_the_chart(core: Core, settings: Settings) -> None:
    out = io.StringIO()
    Console(core, lambda: NOW, out).say("/zeitplan")
    saved = settings.data_dir / "exports" / "zeitplan-2026-11-26.png"
    assert f"Datei gespeichert: {saved}" in out.getvalue()
    assert_valid_png(saved.read_bytes(), 13)


def test_chart_renders_quickly_enough_for_the_event_loop(core: Core, plan: Plan,
                                                          store: Store) -> None:
    import time

    fill(store, plan)
    gantt_attachment(core.ctx, NOW)  # the first one warms up fonts and caches
    started = time.perf_counter()
    gantt_attachment(core.ctx, NOW)
    assert time.perf_counter() - started < 3  # about 0.6 s on a developer machine


# -- python -m bot gantt -------------------------------------------------------------


def test_cli_gantt_writes_the_png_beside_a_running_bot(settings: Settings, store: Store,
                                                       tmp_path: Path) -> None:
    # `store` holds the directory's lock, as the running bot does.
    out = tmp_path / "plan.png"
    done = run_cli(settings.data_dir, "gantt", str(out))
    assert done.returncode == 0, done.stderr
    assert_valid_png(out.read_bytes(), 13)
    assert f"{out} geschrieben" in done.stdout

    missing = run_cli(settings.data_dir, "gantt", str(tmp_path / "fehlt" / "plan.png"))
    assert missing.returncode == 2
    assert "lässt sich nicht schreiben" in missing.stderr
