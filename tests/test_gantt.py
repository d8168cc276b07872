"""/zeitplan: the Gantt chart as a PNG, its text timeline, the command and `python -m bot gantt`."""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

import bot.files
import bot.render.chart_worker
import bot.render.gantt
from bot.core import Core
from bot.files import gantt_attachment, preload_chart
from bot.frontends.console import Console
from bot.messages import Incoming, Reply
from bot.render.chart_worker import NICENESS, ChartWorker, draw_chart
from bot.render.gantt import (
    FULL_WIDTH,
    OVERDUE,
    PHONE_WIDTH,
    STATE_STYLES,
    gantt_figure,
    png,
    render_gantt,
    render_request,
    wrapped_title,
)
from bot.render.timeline import (
    ChartRequest,
    phone_window,
    state_histories,
    state_spans,
    timeline_text,
    whole_programme,
)
from bot.settings import Settings
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


def assert_valid_png(data: bytes, width: int = FULL_WIDTH) -> tuple[int, int]:
    """A whole PNG `width` pixels wide, at most 1280 high; its size."""
    size = png_size(data)
    assert size[0] == width and 300 < size[1] <= 1280
    assert data.endswith(b"IEND\xaeB`\x82")
    pixels = imread(io.BytesIO(data))  # decodes every byte of the image data
    assert pixels.shape[:2] == (size[1], size[0])
    return size


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


def chart_request_at(plan: Plan, store: Store, today: date = TODAY,
                     whole: bool = False) -> ChartRequest:
    """What /zeitplan (or /zeitplan gesamt) draws from, on `today`."""
    statuses = tuple(plan_overview(plan, store.updates(), store.marks(), today))
    histories = tuple(sorted(state_histories(plan, store.updates(), TZ).items()))
    if whole:
        return ChartRequest(plan, statuses, today, histories, whole_programme(plan), FULL_WIDTH)
    return ChartRequest(plan, statuses, today, histories, phone_window(plan, today),
                        PHONE_WIDTH)


def figure_of(request: ChartRequest) -> Figure:
    return gantt_figure(request.plan, list(request.statuses), request.today,
                        request.history_of, request.window, request.width)


@pytest.fixture(autouse=True)
def nothing_drawn_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without charts drawn by another (they are kept by request)."""
    monkeypatch.setattr(bot.render.chart_worker, "DRAWN", bot.render.chart_worker._Drawn())


# -- the picture -------------------------------------------------------------------


def test_chart_of_an_empty_store_is_a_png_1600_px_wide(plan: Plan, store: Store) -> None:
    assert_valid_png(chart(plan, store))


def test_chart_of_a_full_store(plan: Plan, store: Store) -> None:
    fill(store, plan)
    statuses = plan_overview(plan, store.updates(), store.marks(), TODAY)
    assert {st.progress.state for st in statuses} == set(STATES)  # every style is drawn
    kinds = {ms.kind for st in statuses for ms in st.milestones}
    assert kinds == {"erreicht", "überfällig", "bald", "offen"}
    assert_valid_png(render_gantt(plan, statuses, TODAY))


def test_chart_with_every_milestone_reached(plan: Plan, store: Store) -> None:
    for m in plan.milestones:
        store.add_mark(mark(m.id, min(m.due, TODAY)), NOW)
    statuses = plan_overview(plan, store.updates(), store.marks(), TODAY)
    assert all(ms.kind == "erreicht" for st in statuses for ms in st.milestones)
    assert_valid_png(render_gantt(plan, statuses, TODAY))


def test_chart_of_a_plan_with_a_single_ap(store: Store) -> None:
    small = parse_plan(SINGLE_AP, Path("klein.toml"))
    assert_valid_png(chart(small, store, date(2026, 1, 15)))


@pytest.mark.parametrize("today", [date(2024, 6, 1), date(2025, 1, 1), date(2027, 6, 30),
                                   date(2031, 1, 1)])
def test_chart_with_today_at_or_beyond_the_programme_edges(plan: Plan, store: Store,
                                                           today: date) -> None:
    assert_valid_png(chart(plan, store, today))
    request = chart_request_at(plan, store, today)
    assert_valid_png(render_request(request), PHONE_WIDTH)


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


# -- reading right ------------------------------------------------------------------


def texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def by_gid(fig: Figure, prefix: str) -> dict[str, Line2D | Rectangle]:
    return {str(a.get_gid()): a for a in fig.findobj(lambda a: str(a.get_gid()).startswith(
        prefix))}


@pytest.mark.parametrize("today", [date(2025, 2, 1), TODAY, date(2027, 5, 20),
                                   date(2027, 9, 1)])
def test_phone_version_text_is_at_least_12_px_at_telegrams_preview(
        plan: Plan, store: Store, today: date) -> None:
    fill(store, plan)
    request = chart_request_at(plan, store, today)
    fig = figure_of(request)
    width, height = png_size(png(fig))
    assert (width, height) == tuple(fig.get_size_inches() * fig.dpi)
    # Telegram shows a photo at most 1280 px on its long side (for this landscape picture
    # that is its width): every text in pixels of that preview.
    scale = min(1.0, 1280 / width, 1280 / max(width, height))
    sizes = {t.get_text(): float(t.get_fontsize()) * fig.dpi / 72 * scale for t in texts(fig)}
    assert len(sizes) > 40  # the labels, ticks, legend and milestone list are all there
    smallest = min(sizes, key=lambda k: sizes[k])
    assert sizes[smallest] >= 12, smallest
    assert bot.render.gantt.smallest_text_pixels(fig) == pytest.approx(sizes[smallest])
    # The whole programme (1600 px wide) keeps to 12 px too.
    whole = figure_of(chart_request_at(plan, store, today, whole=True))
    assert bot.render.gantt.smallest_text_pixels(whole) >= 12
    assert bot.files.PHONE_WIDTH == PHONE_WIDTH and bot.files.FULL_WIDTH == FULL_WIDTH


def test_phone_window_runs_from_the_last_quarter_to_the_end(plan: Plan) -> None:
    def quarters(today: date) -> str:
        w = phone_window(plan, today)
        return f"{w.first} – {w.last}"

    assert quarters(TODAY) == "Q3 2026 – Q2 2027"
    assert quarters(date(2026, 1, 1)) == "Q4 2025 – Q2 2027"
    assert quarters(date(2025, 1, 10)) == "Q1 2025 – Q2 2027"  # nothing before the start
    assert quarters(date(2027, 6, 1)) == "Q3 2026 – Q2 2027"  # at least four quarters
    assert phone_window(plan, date(2024, 6, 1)) == whole_programme(plan)
    assert phone_window(plan, date(2028, 1, 1)) == whole_programme(plan)


def quarter_lines(request: ChartRequest) -> list[float]:
    w = request.window
    return [float(q.first_day.toordinal()) for q in w.quarters] + [
        float(w.last.last_day.toordinal() + 1)]


@pytest.mark.parametrize("whole", [False, True])
def test_milestones_sit_inside_their_quarter_or_on_the_day_reached(
        plan: Plan, store: Store, whole: bool) -> None:
    store.add_mark(mark("M2.1", date(2026, 3, 31)), NOW)  # on the quarter's last day
    store.add_mark(mark("M3.3", date(2026, 10, 1)), NOW)  # on a quarter's first day
    request = chart_request_at(plan, store, whole=whole)
    fig = figure_of(request)
    [ax] = fig.axes
    lines = quarter_lines(request)
    markers = by_gid(fig, "milestone:")
    drawn = {k.split(":")[1] for k in markers}
    lo, hi = lines[0], lines[-1]
    expected = {m.id for m in plan.milestones
                if lo <= (m.due if m.id not in ("M2.1", "M3.3") else
                          {"M2.1": date(2026, 3, 31), "M3.3": date(2026, 10, 1)}[m.id]
                          ).toordinal() < hi}
    assert drawn == expected and drawn
    to_pixels = ax.transData.transform
    for gid, marker in markers.items():
        assert isinstance(marker, Line2D)
        [x] = marker.get_xdata()
        m = plan.milestone(gid.split(":")[1])
        assert m is not None and m.due_quarter is not None
        day = {"M2.1": date(2026, 3, 31), "M3.3": date(2026, 10, 1)}.get(m.id)
        quarter = m.due_quarter if day is None else type(m.due_quarter).of(day)
        assert quarter.first_day.toordinal() < x < quarter.last_day.toordinal() + 1
        if day is None:  # open: in the middle of its quarter
            middle = (quarter.first_day.toordinal() + quarter.last_day.toordinal() + 1) / 2
            assert x == pytest.approx(middle)
        else:  # reached: on that day, only moved off the line by the marker's half width
            px = abs(to_pixels((x, 0))[0] - to_pixels((day.toordinal() + 0.5, 0))[0])
            assert px <= bot.render.gantt.MARKER_POINTS * fig.dpi / 72 / 2 + 5
        # Never on a grid line: the whole marker is clear of every quarter line.
        half = bot.render.gantt.MARKER_POINTS * fig.dpi / 72 / 2
        gap = min(abs(to_pixels((x, 0))[0] - to_pixels((line, 0))[0]) for line in lines)
        assert gap > half, (gid, gap)


def test_milestone_names_and_dates_are_listed_below_the_chart(plan: Plan, store: Store) -> None:
    store.add_mark(mark("M2.1", date(2026, 3, 20)), NOW)
    fig = figure_of(chart_request_at(plan, store))
    listed = {t.get_text() for t in texts(fig)}
    assert "Meilensteine" in listed
    assert "M2.1 Leitbild beschlossen (AP 2): erreicht 20.03.2026" in listed
    assert "M3.1 BiKo hat stattgefunden (AP 3): fällig 31.12.2025 – überfällig" in listed
    assert "M3.3 BiKo hat stattgefunden (AP 3): fällig 31.12.2026" in listed
    assert "M13.1 Bericht Fachkräfte (AP 13): fällig 30.06.2027" in listed
    # … also those due before the phone version's window, which it does not draw.
    assert "milestone:M3.1" not in by_gid(fig, "milestone:")


def test_full_ap_titles_on_at_most_two_lines(plan: Plan, store: Store) -> None:
    fig = figure_of(chart_request_at(plan, store))
    shown = {t.get_text() for t in texts(fig)}
    for wp in plan.work_packages:
        wrapped = wrapped_title(wp.title)
        assert wrapped in shown
        assert wrapped.replace("\n", " ") == wp.title and wrapped.count("\n") <= 1
    assert wrapped_title("Aufbau und Pflege von Kooperationsstrukturen zu den Themen BNE und "
                         "Fachkräfte").count("\n") == 1
    long = " ".join(["Wort"] * 40)  # 199 characters: no room for all of it
    assert wrapped_title(long).count("\n") == 1 and wrapped_title(long).endswith(" …")


def test_bars_fill_with_progress_and_show_states_from_the_day_reported(
        plan: Plan, store: Store) -> None:
    store.add_update(update("AP3", datetime(2026, 3, 2, 9, tzinfo=TZ), "verzögert", 20), NOW)
    store.add_update(update("AP3", datetime(2026, 7, 15, 9, tzinfo=TZ), "läuft", 60), NOW)
    store.add_update(update("AP5", datetime(2026, 9, 1, 9, tzinfo=TZ), "blockiert"), NOW)
    fig = figure_of(chart_request_at(plan, store, whole=True))
    span = by_gid(fig, "span:AP3")["span:AP3"]
    assert isinstance(span, Rectangle)
    start, days = span.get_x(), span.get_width()
    assert start == date(2025, 1, 1).toordinal()
    assert days == (date(2027, 7, 1) - date(2025, 1, 1)).days
    progress = by_gid(fig, "progress:")
    assert set(progress) == {"progress:AP3"}  # AP 5 reported no percentage: no fill
    assert progress["progress:AP3"].get_width() == pytest.approx(days * 0.6)
    states = {k: (r.get_x(), r.get_x() + r.get_width())
              for k, r in by_gid(fig, "state:AP3:").items() if isinstance(r, Rectangle)}
    day = date.toordinal
    assert states == {
        "state:AP3:": (start, day(date(2026, 3, 2))),  # nothing reported before
        "state:AP3:verzögert": (day(date(2026, 3, 2)), day(date(2026, 7, 15))),
        "state:AP3:läuft": (day(date(2026, 7, 15)), day(TODAY) + 1),  # until today
    }
    [blocked] = [r for k, r in by_gid(fig, "state:AP5:blockiert").items()]
    assert isinstance(blocked, Rectangle)
    assert blocked.get_x() == day(date(2026, 9, 1))


def test_state_spans() -> None:
    start, end, today = date(2025, 1, 1), date(2027, 7, 1), date(2026, 11, 26)
    assert state_spans((), start, end, today) == [(start, date(2026, 11, 27), None)]
    done = ((date(2025, 3, 1), "läuft"), (date(2026, 2, 1), "abgeschlossen"))
    assert state_spans(done, start, end, today) == [
        (start, date(2025, 3, 1), None), (date(2025, 3, 1), date(2026, 2, 1), "läuft"),
        (date(2026, 2, 1), end, "abgeschlossen")]  # done: to the end of the span
    before = ((date(2024, 10, 1), "läuft"),)  # reported before the span began
    assert state_spans(before, start, end, today) == [(start, date(2026, 11, 27), "läuft")]
    ended = state_spans(((date(2025, 2, 1), "verzögert"),), start, date(2025, 7, 1), today)
    assert ended == [(start, date(2025, 2, 1), None), (date(2025, 2, 1), date(2025, 7, 1),
                                                      "verzögert")]


def test_state_histories_leave_out_withdrawn_and_repeated_reports(plan: Plan,
                                                                 store: Store) -> None:
    store.add_update(update("AP3", datetime(2026, 3, 2, 23, 30, tzinfo=TZ), "läuft"), NOW)
    store.add_update(update("AP3", datetime(2026, 4, 2, 9, tzinfo=TZ), "läuft"), NOW)
    gone = store.add_update(update("AP3", datetime(2026, 5, 2, 9, tzinfo=TZ), "blockiert"), NOW)
    store.save_update(replace(gone, withdrawn=True), NOW)
    store.add_update(update("AP3", datetime(2026, 6, 2, 9, tzinfo=TZ), percent=30), NOW)
    assert state_histories(plan, store.updates(), TZ) == {"AP3": ((date(2026, 3, 2), "läuft"),)}


def test_overdue_milestones_look_unlike_blocked_work(plan: Plan, store: Store) -> None:
    assert OVERDUE not in {s.colour for s in STATE_STYLES.values()}
    fig = figure_of(chart_request_at(plan, store, whole=True))
    overdue = by_gid(fig, "milestone:M3.1")["milestone:M3.1"]
    assert isinstance(overdue, Line2D) and overdue.get_markerfacecolor() == OVERDUE
    [x] = overdue.get_xdata()
    signs = [line for line in fig.axes[0].get_lines()
             if line.get_marker() == "$!$" and list(line.get_xdata()) == [x]]
    assert len(signs) == 1  # and a "!" on it: not told by colour alone
    fine = by_gid(fig, "milestone:M3.3")["milestone:M3.3"]
    assert isinstance(fine, Line2D) and fine.get_markerfacecolor() != OVERDUE


def test_a_chart_is_drawn_once_per_request(plan: Plan, store: Store,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[ChartRequest] = []
    real = bot.render.gantt.render_gantt

    def counting(*args: object) -> bytes:
        drawn.append(args[0])  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.render.gantt, "render_gantt", counting)
    request = chart_request_at(plan, store)
    assert draw_chart(request) == draw_chart(request)
    assert len(drawn) == 1
    store.add_update(update("AP4", NOW, "läuft"), NOW)  # anything new: drawn again
    draw_chart(chart_request_at(plan, store))
    assert len(drawn) == 2


def test_the_chart_worker_process_draws_and_ends_with_its_pipe(plan: Plan, store: Store) -> None:
    worker = ChartWorker()
    worker.start()
    try:
        request = chart_request_at(plan, store)
        data = worker.draw(request)
        # The same picture as drawn here (its size; pixels may differ by font settings).
        assert assert_valid_png(data, PHONE_WIDTH) == png_size(render_request(request))
        proc = worker._proc
        assert proc is not None and proc.stdin is not None
        # It yields the CPU to the bot: its priority is lower (a higher nice value).
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == min(
            os.getpriority(os.PRIO_PROCESS, 0) + NICENESS, 19)
        proc.stdin.close()  # what happens when the bot stops or dies: the worker ends
        assert proc.wait(timeout=30) == 0
        with pytest.raises(RuntimeError):
            worker.draw(request)
    finally:
        worker.stop()
    assert not worker.running


def test_the_chart_drawn_at_start_up_answers_the_first_zeitplan(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    preload_chart(core.ctx, NOW)()  # as the front-end runs it in a thread at start-up

    def broken(*args: object) -> bytes:
        raise AssertionError("drawn again")

    monkeypatch.setattr(bot.render.gantt, "render_gantt", broken)
    [reply] = ask(core, "/zeitplan")
    assert reply.attachment is not None
    assert_valid_png(reply.attachment.data, PHONE_WIDTH)  # not drawn again: from start-up


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


def ask(core: Core, text: str, chat_id: str = TEAM, chat_type: str = "supergroup") -> list[Reply]:
    return core.handle(Incoming(text=text, chat_id=chat_id, user_id="2", user_name="Anna",
                                chat_type=chat_type, message_id="1"), NOW)


@pytest.mark.parametrize("command", ["/zeitplan", "/gantt", "/ZEITPLAN"])
def test_zeitplan_sends_the_chart_as_a_photo(core: Core, command: str) -> None:
    [reply] = ask(core, command)
    file = reply.attachment
    assert file is not None and reply.text == ""
    assert file.kind == "photo" and file.filename == "zeitplan-2026-11-26.png"
    assert_valid_png(file.data, PHONE_WIDTH)
    assert file.caption.startswith("📊 <b>Arbeits- und Zeitplan</b>, Stand 26.11.2026")
    assert "überfällig" in file.caption and len(file.caption) <= 1024
    assert "<pre>" in file.fallback_text and "AP 13" in file.fallback_text


def test_zeitplan_gesamt_sends_the_whole_programme(core: Core) -> None:
    [reply] = ask(core, "/zeitplan gesamt")
    file = reply.attachment
    assert file is not None and file.filename == "zeitplan-gesamt-2026-11-26.png"
    assert_valid_png(file.data, FULL_WIDTH)
    assert "Q1 2025 – Q2 2027" in file.caption and "/zeitplan gesamt" not in file.caption
    [phone] = ask(core, "/zeitplan")
    assert phone.attachment is not None
    assert "Q3 2026 – Q2 2027 (den ganzen Plan zeigt /zeitplan gesamt)" in phone.attachment.caption
    [odd] = ask(core, "/zeitplan morgen")
    assert odd.attachment is None and odd.text.startswith("„morgen“ kenne ich bei /zeitplan")


def test_zeitplan_only_in_allowed_chats(core: Core) -> None:
    [reply] = ask(core, "/zeitplan", chat_id="-100999")
    assert reply.attachment is None
    assert "nur für das Koordinierungsteam" in reply.text
    [private] = ask(core, "/zeitplan", chat_id="2", chat_type="private")  # Anna is no admin
    assert private.attachment is None


def test_zeitplan_answers_with_the_timeline_when_the_chart_fails(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.render.gantt, "render_gantt", broken)
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
    assert_valid_png(saved.read_bytes(), PHONE_WIDTH)


def test_the_chart_is_drawn_off_the_event_loop(core: Core, plan: Plan, store: Store) -> None:
    import time

    fill(store, plan)
    started = time.perf_counter()
    file = gantt_attachment(core.ctx, NOW)
    # Only the data is read here; the drawing (a second or more) waits for the front-end,
    # which runs it in a worker thread.
    assert time.perf_counter() - started < 0.5
    assert not file.is_rendered
    assert_valid_png(file.data, PHONE_WIDTH)
    assert file.is_rendered


# -- python -m bot gantt -------------------------------------------------------------


def test_cli_gantt_writes_the_png_beside_a_running_bot(settings: Settings, store: Store,
                                                       tmp_path: Path) -> None:
    # `store` holds the directory's lock, as the running bot does.
    out = tmp_path / "plan.png"
    done = run_cli(settings.data_dir, "gantt", str(out))
    assert done.returncode == 0, done.stderr
    assert_valid_png(out.read_bytes(), FULL_WIDTH)  # the whole programme
    assert f"{out} geschrieben" in done.stdout

    missing = run_cli(settings.data_dir, "gantt", str(tmp_path / "fehlt" / "plan.png"))
    assert missing.returncode == 2
    assert "lässt sich nicht schreiben" in missing.stderr
