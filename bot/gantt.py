"""The Arbeits- und Zeitplan as a Gantt chart: one PNG, about 1600 px wide, readable on a phone.

Drawn with matplotlib's object API (`Figure` + Agg canvas, no pyplot): no global
state, safe inside the bot's process. Colours are the Okabe–Ito palette, and every
state also has its own hatching and every milestone kind its own shape or fill,
so nothing is told by colour alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bot.format import short_day, trim
from bot.timeline import progress_label
from workflows.plan import Plan
from workflows.quarters import quarters_between
from workflows.queries import APStatus, MilestoneStatus

DPI = 100
PIXEL_WIDTH = 1600
ROW_PIXELS = 52
FRAME_PIXELS = 300  # title, axis labels and the legend
MIN_PIXEL_HEIGHT = 500


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
REACHED, OPEN, OVERDUE = "#009E73", "#FFFFFF", "#D55E00"


def pixel_height(rows: int) -> int:
    """The picture's height for a plan with `rows` work packages."""
    return max(MIN_PIXEL_HEIGHT, FRAME_PIXELS + ROW_PIXELS * rows)


def _milestone_handles() -> list[Line2D | tuple[Line2D, Line2D]]:
    def diamond(face: str) -> Line2D:
        return Line2D([], [], linestyle="none", marker="D", markersize=12,
                      markerfacecolor=face, markeredgecolor=INK, markeredgewidth=1.5)

    cross = Line2D([], [], linestyle="none", marker="x", markersize=8,
                   markeredgecolor=INK, markeredgewidth=2.5)
    return [diamond(REACHED), diamond(OPEN), (diamond(OVERDUE), cross)]


def _draw_milestone(ax: Axes, x: float, y: float, ms: MilestoneStatus) -> None:
    kind = ms.kind
    face = REACHED if kind == "erreicht" else OVERDUE if kind == "überfällig" else OPEN
    # Markers may reach past the last quarter: a milestone due on the last day.
    ax.plot([x], [y], linestyle="none", marker="D", markersize=15, markerfacecolor=face,
            markeredgecolor=INK, markeredgewidth=1.5, zorder=5, clip_on=False)
    if kind == "überfällig":
        ax.plot([x], [y], linestyle="none", marker="x", markersize=10, markeredgecolor=INK,
                markeredgewidth=2.5, zorder=6, clip_on=False)
    ax.annotate(ms.milestone.id, (x, y), xytext=(0, 12), textcoords="offset points",
                ha="center", va="bottom", fontsize=9, color=INK, zorder=6,
                annotation_clip=False)


def render_gantt(plan: Plan, statuses: list[APStatus], today: date) -> bytes:
    """The chart as PNG bytes, PIXEL_WIDTH × pixel_height(len(statuses)) pixels."""
    start = plan.programme.first_day
    quarters = quarters_between(plan.programme.start, plan.programme.end)
    end_x = (plan.programme.last_day - start).days + 1

    def x(day: date) -> float:
        return float((day - start).days)

    rows = len(statuses)
    fig = Figure(figsize=(PIXEL_WIDTH / DPI, pixel_height(rows) / DPI), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    for row, st in enumerate(statuses):
        if row % 2:
            ax.axhspan(row - 0.5, row + 0.5, color="#F4F4F4", zorder=0)
        style = STATE_STYLES.get(st.progress.state, STATE_STYLES[None])
        left, right = x(st.wp.start.first_day), x(st.wp.end.last_day) + 1
        ax.barh(row, right - left, left=left, height=0.56, color=style.colour,
                hatch=style.hatch, edgecolor=INK, linewidth=0.8, zorder=2)
        ax.text(left + 6, row, progress_label(st), va="center", ha="left", fontsize=10,
                color=INK, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.85})
        for ms in st.milestones:
            _draw_milestone(ax, x(ms.milestone.due), row, ms)

    # Quarters along the bottom, years marked by stronger lines.
    for q in quarters:
        ax.axvline(x(q.first_day), color="#888888" if q.number == 1 else "#CCCCCC",
                   linewidth=1.2 if q.number == 1 else 0.6, zorder=1)
    ax.set_xticks([x(q.first_day) + (x(q.last_day) + 1 - x(q.first_day)) / 2
                   for q in quarters])
    ax.set_xticklabels([f"Q{q.number}\n{q.year}" if q.number == 1 or q == quarters[0]
                        else f"Q{q.number}" for q in quarters], fontsize=11)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(0, end_x)

    ax.set_yticks(range(rows))
    ax.set_yticklabels([f"{st.wp.label}  {trim(st.wp.title, 40)}" for st in statuses],
                       fontsize=11)
    ax.set_ylim(rows - 0.5, -0.5)  # AP 1 at the top
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    inside = plan.programme.first_day <= today <= plan.programme.last_day
    if inside:
        ax.axvline(x(today), color=INK, linestyle="--", linewidth=1.8, zorder=7)
        ax.text(x(today), 1.005, f"heute {short_day(today)}", transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=11, fontweight="bold", color=INK)

    notes = [f"Stand {short_day(today)}"]
    if not inside:
        notes.append("heute liegt außerhalb des Programmzeitraums")
    if any(st.wp.assumed for st in statuses) or any(m.assumed for m in plan.milestones):
        notes.append("Zeiträume und Fälligkeiten laut Plan angenommen")
    fig.suptitle(f"{plan.programme.name}\n{' · '.join(notes)}", fontsize=15)

    handles: list[Any] = [  # artists, and a (diamond, cross) pair for "überfällig"
        Patch(facecolor=s.colour, hatch=s.hatch, edgecolor=INK, label=s.label)
        for s in STATE_STYLES.values()
    ]
    labels = [s.label for s in STATE_STYLES.values()]
    handles += _milestone_handles()
    labels += ["Meilenstein erreicht", "Meilenstein offen", "Meilenstein überfällig"]
    if inside:
        handles.append(Line2D([], [], color=INK, linestyle="--", linewidth=1.8))
        labels.append("heute")
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=11,
               frameon=False, handlelength=2.2, handleheight=1.3)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": "apbot"})
    return out.getvalue()
