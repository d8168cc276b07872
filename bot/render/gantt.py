"""The Arbeits- und Zeitplan as a Gantt chart (PNG): one row per AP, milestones, today.

Two versions: for the phone (`/zeitplan`) a window from the last quarter to the
programme's end, 1280 px wide — Telegram shows photos at most 1280 px on their long
side, so nothing is scaled down and the smallest text stays 11 pt (15 px); and the whole
programme (`/zeitplan gesamt`), 1600 px wide.

Each bar is the AP's span in the plan. Inside it, the reported states are drawn from the
day each was reported (grey before the first report, white for what lies ahead), and a
strip along its foot fills with the reported percentage. Milestones sit inside their
quarter (in its middle when the plan gives only the quarter) or on the day they were
reached, never on a quarter line; their names and dates are listed below the chart.

Drawn with matplotlib's object API (`Figure` + Agg canvas, no pyplot): no global state,
safe in a worker thread. The layout is computed here in pixels rather than by
matplotlib's constrained layout, which would draw the figure twice. Colours are the
Okabe–Ito palette, and every state also has its own hatching and every milestone kind
its own fill or sign, so nothing is told by colour alone.
"""

from __future__ import annotations

import io
import itertools
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from bot.render.format import short_day
from bot.render.timeline import (
    ChartRequest,
    ChartWindow,
    StateHistory,
    progress_label,
    state_spans,
    whole_programme,
)
from workflows.plan import Plan
from workflows.queries import APStatus, MilestoneStatus

DPI = 100
# Telegram's largest photo size: 1280 px on the long side (bot/files.py names them too).
PHONE_WIDTH = 1280
FULL_WIDTH = 1600
PIXEL_WIDTH = FULL_WIDTH  # the whole programme (`/zeitplan gesamt`, `python -m bot gantt`)
TELEGRAM_PREVIEW = 1280
FONT = 11.0  # pt: the smallest text; 15 px at 100 dpi
ROW_PIXELS = 64
TITLE_PIXELS = 84
TICK_PIXELS = 52
LEGEND_ROW_PIXELS = 30
LIST_LINE_PIXELS = 24
MARGIN = 14


@dataclass(frozen=True)
class StateStyle:
    label: str
    colour: str
    hatch: str


# Okabe–Ito colours; the hatching tells the same apart without colour.
STATE_STYLES: dict[str | None, StateStyle] = {
    None: StateStyle("kein Zustand gemeldet", "#D9D9D9", ""),
    "läuft": StateStyle("läuft", "#0072B2", ""),
    "verzögert": StateStyle("verzögert", "#E69F00", "//"),
    "blockiert": StateStyle("blockiert", "#D55E00", "xx"),
    "zurückgestellt": StateStyle("zurückgestellt", "#CC79A7", ".."),
    "abgeschlossen": StateStyle("abgeschlossen", "#009E73", "\\\\"),
}
INK = "#1A1A1A"
AHEAD = "#EDF1F6"  # the part of a span that lies after today: paler than any state
# Milestones: filled green = erreicht, white = offen, yellow with "!" = überfällig (a
# colour and a sign no state has: "blockiert" is vermillion with cross-hatching).
REACHED, OPEN, OVERDUE = "#009E73", "#FFFFFF", "#F0E442"
MARKER_POINTS = 16.0
BAR_HEIGHT = 0.6
STRIP = 0.22  # the progress strip's share of the row, along the bar's foot


@dataclass(frozen=True)
class Geometry:
    """Sizes in pixels for one chart."""

    width: int
    height: int
    label_width: float  # the AP labels and titles on the left
    status_width: float  # "läuft · 60 %" on the right
    rows: int
    legend_rows: int
    list_lines: int

    @property
    def axes_left(self) -> float:
        return MARGIN + self.label_width

    @property
    def axes_width(self) -> float:
        return self.width - self.axes_left - self.status_width - MARGIN

    @property
    def axes_top(self) -> float:
        return TITLE_PIXELS

    @property
    def axes_height(self) -> float:
        return self.rows * ROW_PIXELS


MAX_TITLE_LINE = 56  # characters: two such lines still leave the bars room at 1280 px


def wrapped_title(title: str, width: int = 40) -> str:
    """The full AP title on at most two lines (one beyond 112 characters is cut with "…")."""
    lines = textwrap.wrap(title, width)
    while len(lines) > 2 and width < MAX_TITLE_LINE:
        width += 4
        lines = textwrap.wrap(title, width)
    if len(lines) > 2:
        lines = textwrap.wrap(title, width, max_lines=2, placeholder=" …")
    return "\n".join(lines)


def _text_width(renderer: RendererAgg, text: str, size: float, bold: bool = False) -> float:
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    return max(float(renderer.get_text_width_height_descent(  # type: ignore[no-untyped-call]
        line, prop, ismath=False)[0]) for line in text.split("\n"))


def _milestone_line(ms: MilestoneStatus, plan: Plan) -> str:
    m = ms.milestone
    wp = plan.work_package(m.ap)
    head = f"{m.id} {m.title} ({wp.label if wp else m.ap})"
    if ms.reached_on is not None:
        return f"{head}: erreicht {short_day(ms.reached_on)}"
    if ms.kind == "überfällig":
        return f"{head}: fällig {short_day(m.due)} – überfällig"
    return f"{head}: fällig {short_day(m.due)}"


def _legend_entries(inside: bool) -> list[tuple[str, str, str, str]]:
    """(kind, label, face, hatch): "bar", "strip", "marker-…" or "today"."""
    entries = [("bar", "Zeitraum laut Plan", AHEAD, "")]
    entries += [("bar", s.label, s.colour, s.hatch) for s in STATE_STYLES.values()]
    entries += [("strip", "Fortschritt in %", INK, ""),
                ("marker-reached", "Meilenstein erreicht", REACHED, ""),
                ("marker-open", "Meilenstein offen", OPEN, ""),
                ("marker-overdue", "Meilenstein überfällig", OVERDUE, "")]
    if inside:
        entries.append(("today", "heute", INK, ""))
    return entries


LEGEND_COLUMNS = 4


def _milestone_x(ms: MilestoneStatus) -> float:
    """Where a milestone goes (day ordinals): the middle of the day it was reached, else the
    middle of its due quarter (when the plan gives only the quarter) or of its due day."""
    if ms.reached_on is not None:
        return ms.reached_on.toordinal() + 0.5
    q = ms.milestone.due_quarter
    if q is not None:
        return (q.first_day.toordinal() + q.last_day.toordinal() + 1) / 2
    return ms.milestone.due.toordinal() + 0.5


def _off_the_lines(x: float, edges: list[float], margin: float) -> float:
    """`x` moved inside its quarter, at least `margin` from either of its lines."""
    for lo, hi in itertools.pairwise(edges):
        if lo <= x < hi:
            if hi - lo <= 2 * margin:
                return (lo + hi) / 2
            return min(max(x, lo + margin), hi - margin)
    return x


class _Chart:
    """One chart being drawn; positions in data units: days (ordinal) and rows."""

    def __init__(self, plan: Plan, statuses: list[APStatus], today: date,
                 histories: Mapping[str, StateHistory], window: ChartWindow,
                 width: int) -> None:
        self.plan, self.statuses, self.today = plan, statuses, today
        self.histories, self.window = histories, window
        self.quarters = window.quarters
        self.lo = float(window.first.first_day.toordinal())
        self.hi = float(window.last.last_day.toordinal() + 1)
        self.inside = window.first.first_day <= today <= window.last.last_day
        self.listed = sorted((ms for st in statuses for ms in st.milestones),
                             key=lambda ms: (ms.milestone.due, ms.milestone.id))
        self.fig = Figure(dpi=DPI)
        canvas = FigureCanvasAgg(self.fig)
        self.renderer = renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        # Where the AP titles begin: right of the widest "AP 13".
        self.label_px = max([_text_width(renderer, st.wp.label, FONT + 1, bold=True)
                             for st in statuses] + [0]) + 10
        label_width = self.label_px + max(
            [_text_width(renderer, wrapped_title(st.wp.title), FONT) for st in statuses] + [0])
        status_width = max([_text_width(renderer, progress_label(st), FONT) for st in statuses]
                           + [0]) + 24
        legend_rows = math.ceil(len(_legend_entries(self.inside)) / LEGEND_COLUMNS)
        list_lines = math.ceil(len(self.listed) / 2) + (1 if self.listed else 0)
        height = int(TITLE_PIXELS + ROW_PIXELS * max(1, len(statuses)) + TICK_PIXELS
                     + legend_rows * LEGEND_ROW_PIXELS + list_lines * LIST_LINE_PIXELS
                     + 2 * MARGIN)
        self.geo = Geometry(width, height, label_width, status_width, max(1, len(statuses)),
                            legend_rows, list_lines)
        self.fig.set_size_inches(width / DPI, height / DPI)

    # -- coordinates -------------------------------------------------------------

    def fx(self, px: float) -> float:
        return px / self.geo.width

    def fy(self, px_from_top: float) -> float:
        return 1 - px_from_top / self.geo.height

    def days_per_pixel(self) -> float:
        return (self.hi - self.lo) / self.geo.axes_width

    # -- drawing -------------------------------------------------------------------

    def draw(self) -> Figure:
        g = self.geo
        ax = self.fig.add_axes((self.fx(g.axes_left), self.fy(g.axes_top + g.axes_height),
                                self.fx(g.axes_width), g.axes_height / g.height))
        ax.set_xlim(self.lo, self.hi)
        ax.set_ylim(g.rows - 0.5, -0.5)  # AP 1 at the top
        ax.set_axis_off()
        self._grid(ax)
        for row, st in enumerate(self.statuses):
            self._row(ax, row, st)
        if self.inside:
            x = self.today.toordinal() + 0.5
            ax.axvline(x, color=INK, linestyle="--", linewidth=1.8, zorder=7)
            ax.text(x, -0.5, f"heute {short_day(self.today)}", ha="center", va="bottom",
                    fontsize=FONT, fontweight="bold", color=INK, clip_on=False)
        self._title()
        self._legend()
        self._milestone_list()
        return self.fig

    def _grid(self, ax: Axes) -> None:
        g = self.geo
        for row in range(1, g.rows):  # a hairline between rows
            ax.axhline(row - 0.5, color="#E0E0E0", linewidth=0.8, zorder=0)
        tick_y = self.fy(g.axes_top + g.axes_height + 6)
        for q in self.quarters:
            left, right = q.first_day.toordinal(), q.last_day.toordinal() + 1
            ax.axvline(left, color="#808080" if q.number == 1 else "#C8C8C8",
                       linewidth=1.4 if q.number == 1 else 0.8, zorder=1)
            label = f"Q{q.number}\n{q.year}" if q.number == 1 or q == self.quarters[0] else (
                f"Q{q.number}")
            x_px = g.axes_left + ((left + right) / 2 - self.lo) / self.days_per_pixel()
            self.fig.text(self.fx(x_px), tick_y, label, ha="center", va="top", fontsize=FONT + 1,
                          color=INK)
        ax.axvline(self.hi, color="#808080", linewidth=1.4, zorder=1)

    def _row(self, ax: Axes, row: int, st: APStatus) -> None:
        g = self.geo
        y_px = g.axes_top + (row + 0.5) * ROW_PIXELS
        self.fig.text(self.fx(MARGIN), self.fy(y_px), st.wp.label, ha="left", va="center",
                      fontsize=FONT + 1, fontweight="bold", color=INK)
        self.fig.text(self.fx(MARGIN + self.label_px), self.fy(y_px), wrapped_title(st.wp.title),
                      ha="left", va="center", fontsize=FONT, color=INK, linespacing=1.15)
        self.fig.text(self.fx(g.width - MARGIN - g.status_width + 14), self.fy(y_px),
                      progress_label(st), ha="left", va="center", fontsize=FONT, color=INK)

        start, end = st.wp.start.first_day, st.wp.end.last_day + timedelta(days=1)
        if end.toordinal() <= self.lo:  # the whole span lies before the window
            ax.text(self.lo + 4 * self.days_per_pixel(), row,
                    f"◂ endete laut Plan am {short_day(end - timedelta(days=1))}", ha="left",
                    va="center", fontsize=FONT, color=INK, zorder=8,
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": "white",
                          "edgecolor": "none"})
            return
        percent = st.progress.percent
        strip = STRIP if percent is not None else 0.0  # no strip without a percentage
        top = row - BAR_HEIGHT / 2
        x0, days = start.toordinal(), (end - start).days
        # The plan's span: white where it lies ahead, the outline over everything.
        ax.add_patch(Rectangle((x0, top), days, BAR_HEIGHT, facecolor=AHEAD,
                               edgecolor="none", zorder=2, gid=f"span:{st.wp.id}"))
        for lo, hi, state in state_spans(self.histories.get(st.wp.id, ()), start, end,
                                          self.today):
            style = STATE_STYLES.get(state, STATE_STYLES[None])
            ax.add_patch(Rectangle((lo.toordinal(), top), (hi - lo).days, BAR_HEIGHT - strip,
                                   facecolor=style.colour, hatch=style.hatch,
                                   edgecolor=INK if style.hatch else "none", linewidth=0,
                                   zorder=3, gid=f"state:{st.wp.id}:{state or ''}"))
        if percent is not None:
            strip_top = row + BAR_HEIGHT / 2 - strip
            ax.add_patch(Rectangle((x0, strip_top), days, strip, facecolor="#FFFFFF",
                                   edgecolor="none", zorder=3))
            filled = days * min(percent, 100) / 100
            if percent:
                ax.add_patch(Rectangle((x0, strip_top), filled, strip, facecolor=INK,
                                       edgecolor="none", zorder=4, gid=f"progress:{st.wp.id}"))
            if percent and x0 + filled <= self.lo:  # filled only left of the window
                ax.plot([self.lo + 6 * self.days_per_pixel()], [strip_top + strip / 2],
                        linestyle="none", marker="<", markersize=7, color=INK, zorder=6)
            ax.plot([x0, x0 + days], [strip_top, strip_top], color=INK, linewidth=0.6,
                    zorder=5)
        ax.add_patch(Rectangle((x0, top), days, BAR_HEIGHT, facecolor="none", edgecolor=INK,
                               linewidth=1.0, zorder=5))
        self._milestones(ax, row, st)

    def _milestones(self, ax: Axes, row: int, st: APStatus) -> None:
        edges = [float(q.first_day.toordinal()) for q in self.quarters] + [self.hi]
        half = MARKER_POINTS * DPI / 72 / 2 + 4  # pixels from the marker's middle to a line
        margin = half * self.days_per_pixel()
        placed: list[float] = []
        for x, ms in sorted(((_milestone_x(m), m) for m in st.milestones),
                            key=lambda pair: pair[0]):
            if not self.lo <= x < self.hi:
                continue  # outside the window: listed below the chart
            x = _off_the_lines(x, edges, margin)
            if placed and x - placed[-1] < 2 * margin:
                x = _off_the_lines(placed[-1] + 2 * margin, edges, margin)
            placed.append(x)
            kind = ms.kind
            face = REACHED if kind == "erreicht" else OVERDUE if kind == "überfällig" else OPEN
            ax.plot([x], [row - 0.06], linestyle="none", marker="D", markersize=MARKER_POINTS,
                    markerfacecolor=face, markeredgecolor=INK, markeredgewidth=1.6, zorder=8,
                    gid=f"milestone:{ms.milestone.id}")
            if kind == "überfällig":
                ax.plot([x], [row - 0.06], linestyle="none", marker="$!$",
                        markersize=MARKER_POINTS * 0.55, color=INK, zorder=9)
            # The id beside the marker, on its left where the right would leave the chart.
            right = x + margin * 4 < self.hi
            ax.text(x + margin * (0.9 if right else -0.9), row - 0.06, ms.milestone.id,
                    ha="left" if right else "right", va="center",
                    fontsize=FONT, fontweight="bold", color=INK, zorder=9,
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                          "edgecolor": "none", "alpha": 0.75})

    def _title(self) -> None:
        plan = self.plan
        self.fig.text(self.fx(MARGIN), self.fy(MARGIN), plan.programme.name, ha="left",
                      va="top", fontsize=FONT + 6, fontweight="bold", color=INK)
        notes = [f"Stand {short_day(self.today)}"]
        whole = whole_programme(plan)
        if self.window != whole:
            notes.append(f"{self.window.first} – {self.window.last}; den ganzen Plan zeigt "
                         "/zeitplan gesamt")
        else:
            notes.append(f"{whole.first} – {whole.last}")
        if not plan.programme.first_day <= self.today <= plan.programme.last_day:
            notes.append("heute liegt außerhalb des Programmzeitraums")
        if any(st.wp.assumed for st in self.statuses) or any(m.assumed for m in plan.milestones):
            notes.append("Zeiträume und Fälligkeiten angenommen")
        self.fig.text(self.fx(MARGIN), self.fy(MARGIN + 34), " · ".join(notes), ha="left",
                      va="top", fontsize=FONT, color=INK)

    def _legend(self) -> None:
        g = self.geo
        top = g.axes_top + g.axes_height + TICK_PIXELS
        column = (g.width - 2 * MARGIN) / LEGEND_COLUMNS
        for i, (kind, label, face, hatch) in enumerate(_legend_entries(self.inside)):
            x = MARGIN + (i % LEGEND_COLUMNS) * column
            y = top + (i // LEGEND_COLUMNS) * LEGEND_ROW_PIXELS + LEGEND_ROW_PIXELS / 2
            if kind == "bar":
                self.fig.patches.append(Rectangle(
                    (self.fx(x), self.fy(y + 9)), self.fx(34), 18 / g.height, facecolor=face,
                    hatch=hatch, edgecolor=INK, linewidth=0.8, transform=self.fig.transFigure))
            elif kind == "strip":
                self.fig.patches.append(Rectangle(
                    (self.fx(x), self.fy(y + 4)), self.fx(34), 8 / g.height, facecolor=face,
                    edgecolor=INK, linewidth=0.8, transform=self.fig.transFigure))
            elif kind == "today":
                self.fig.lines.append(_figure_line(self, x, y))
            else:
                self.fig.lines.append(_figure_marker(self, x + 17, y, face))
                if kind == "marker-overdue":
                    self.fig.lines.append(_figure_marker(self, x + 17, y, INK, "$!$"))
            self.fig.text(self.fx(x + 44), self.fy(y), label, ha="left", va="center",
                          fontsize=FONT, color=INK)

    def _milestone_list(self) -> None:
        if not self.listed:
            return
        g = self.geo
        top = (g.axes_top + g.axes_height + TICK_PIXELS + g.legend_rows * LEGEND_ROW_PIXELS
               + 6)
        self.fig.text(self.fx(MARGIN), self.fy(top), "Meilensteine", ha="left", va="top",
                      fontsize=FONT + 1, fontweight="bold", color=INK)
        half = math.ceil(len(self.listed) / 2)
        column = (g.width - 2 * MARGIN) / 2
        for i, ms in enumerate(self.listed):
            x = MARGIN + (i // half) * column
            y = top + LIST_LINE_PIXELS * (1 + i % half)
            self.fig.text(self.fx(x), self.fy(y), _milestone_line(ms, self.plan), ha="left",
                          va="top", fontsize=FONT, color=INK)


def _figure_line(chart: _Chart, x: float, y: float) -> Line2D:
    return Line2D([chart.fx(x), chart.fx(x + 34)], [chart.fy(y), chart.fy(y)], color=INK,
                  linestyle="--", linewidth=1.8, transform=chart.fig.transFigure)


def _figure_marker(chart: _Chart, x: float, y: float, face: str,
                   marker: str = "D") -> Line2D:
    if marker != "D":
        return Line2D([chart.fx(x)], [chart.fy(y)], linestyle="none", marker=marker,
                      markersize=MARKER_POINTS * 0.5, color=face,
                      transform=chart.fig.transFigure)
    return Line2D([chart.fx(x)], [chart.fy(y)], linestyle="none", marker="D",
                  markersize=MARKER_POINTS * 0.8, markerfacecolor=face, markeredgecolor=INK,
                  markeredgewidth=1.4, transform=chart.fig.transFigure)


def gantt_figure(plan: Plan, statuses: list[APStatus], today: date,
                 histories: Mapping[str, StateHistory] | None = None,
                 window: ChartWindow | None = None, width: int = FULL_WIDTH) -> Figure:
    """The chart as a matplotlib figure (`window`: the quarters shown, default all)."""
    return _Chart(plan, statuses, today, histories or {}, window or whole_programme(plan),
                  width).draw()


def png(fig: Figure) -> bytes:
    out = io.BytesIO()
    # Compression level 3 instead of 6: a few percent larger, noticeably faster.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": "apbot"},
                pil_kwargs={"compress_level": 3})
    return out.getvalue()


def render_gantt(plan: Plan, statuses: list[APStatus], today: date,
                 histories: Mapping[str, StateHistory] | None = None,
                 window: ChartWindow | None = None, width: int = FULL_WIDTH) -> bytes:
    """The chart as PNG bytes."""
    return png(gantt_figure(plan, statuses, today, histories, window, width))


def render_request(request: ChartRequest) -> bytes:
    """The chart for `request` as PNG bytes (bot.chart_worker keeps those drawn)."""
    return render_gantt(request.plan, list(request.statuses), request.today,
                        request.history_of, request.window, request.width)


def smallest_text_pixels(fig: Figure, preview: int = TELEGRAM_PREVIEW) -> float:
    """The smallest text's height in pixels once Telegram has scaled the photo to fit
    `preview` pixels on its long side (font size in pt × dpi / 72 × scale)."""
    from matplotlib.text import Text

    width, height = fig.get_size_inches() * fig.dpi
    scale = min(1.0, preview / max(width, height))
    sizes = [float(t.get_fontsize()) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return float(min(sizes) * fig.dpi / 72 * scale)


def warm_up() -> None:
    """Load matplotlib's drawing code and fonts, so that the first chart is drawn quickly."""
    fig = Figure(figsize=(2, 1), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, "Arbeits- und Zeitplan ÄÖÜß", fontsize=FONT, fontweight="bold")
    fig.text(0.5, 0.2, "Q1 2026", fontsize=FONT)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.plot([0], [0], marker="D")
    ax.plot([0], [0], marker="$!$")
    ax.add_patch(Rectangle((0, 0), 1, 1, hatch="//"))
    png(fig)
