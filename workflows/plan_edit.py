"""Changes to the plan as the team makes them in the chat, applied to plan.toml's text.

A change is a list of edits of the file's entries ([[work_package]], [[milestone]],
[[meeting]]): set some fields, add an entry, remove one. It is applied with tomlkit, so
the file keeps its comments and layout for whoever opens it next, and the new text is
checked by `parse_plan` — the same rules as the file at start-up — plus the rules only a
change can break (a due date before its AP starts, a milestone outside its AP's span).
Applying returns the edits that undo it, so a change can be taken back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from workflows.plan import Plan, PlanError, parse_plan

TABLES = ("work_package", "milestone", "meeting")
Fields = tuple[tuple[str, Any], ...]  # (name, value); value None removes the field


class PlanEditError(Exception):
    """The change cannot be made; the message is one German sentence for the chat."""


@dataclass(frozen=True)
class Edit:
    """One entry's change: op "set" (fields), "add" (a new entry) or "remove"."""

    op: str
    table: str
    id: str
    fields: Fields = ()

    def as_json(self) -> dict[str, Any]:
        return {"op": self.op, "table": self.table, "id": self.id,
                "fields": [[name, value] for name, value in self.fields]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Edit:
        return cls(str(raw["op"]), str(raw["table"]), str(raw["id"]),
                   tuple((str(name), value) for name, value in raw["fields"]))


@dataclass(frozen=True)
class Applied:
    """A change applied: the new file text, the plan it makes, and how to undo it."""

    text: str
    plan: Plan
    undo: tuple[Edit, ...]


def apply_edits(text: str, source: Path, edits: Iterable[Edit]) -> Applied:
    """Apply `edits` to the plan file's text; PlanEditError when the result is no valid plan."""
    document = tomlkit.parse(text)
    undo: list[Edit] = []
    touched: set[str] = set()
    for edit in edits:
        undo.insert(0, _apply(document, edit))
        touched.add(edit.id)
    new_text = tomlkit.dumps(document)
    try:
        plan = parse_plan(new_text, source)
    except PlanError as err:
        raise PlanEditError(_sentence(err)) from None
    _check(plan, touched)
    return Applied(new_text, plan, tuple(undo))


def _entries(document: Any, table: str) -> AoT:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    if table not in document:
        document.append(table, tomlkit.aot())
    entries = document[table]
    if not isinstance(entries, AoT):
        raise PlanEditError(f"In der Plandatei ist [{table}] keine Liste von Einträgen.")
    return entries


def _find(entries: AoT, entry_id: str) -> int | None:
    return next((i for i, entry in enumerate(entries) if entry.get("id") == entry_id), None)


def _apply(document: Any, edit: Edit) -> Edit:
    """Apply one edit to the document; return the edit that undoes it."""
    entries = _entries(document, edit.table)
    index = _find(entries, edit.id)
    if edit.op == "add":
        if index is not None:
            raise PlanEditError(f"{edit.id} gibt es im Plan schon.")
        table = tomlkit.table()
        table.add("id", edit.id)
        for name, value in edit.fields:
            if value is not None:
                table.add(name, value)
        entries.append(table)
        return Edit("remove", edit.table, edit.id)
    if index is None:
        raise PlanEditError(f"{edit.id} gibt es im Plan nicht.")
    entry: Table = entries[index]
    if edit.op == "remove":
        before = tuple((name, _plain(value)) for name, value in entry.items() if name != "id")
        del entries[index]
        return Edit("add", edit.table, edit.id, before)
    if edit.op != "set":
        raise ValueError(f"unknown op {edit.op!r}")
    before = tuple((name, _plain(entry[name]) if name in entry else None)
                   for name, _ in edit.fields)
    for name, value in edit.fields:
        if value is None:
            if name in entry:
                del entry[name]
        else:
            entry[name] = value
    return Edit("set", edit.table, edit.id, before)


def _plain(value: Any) -> Any:
    """A tomlkit item as the plain value it holds."""
    return value.unwrap() if hasattr(value, "unwrap") else value


def _check(plan: Plan, touched: set[str]) -> None:
    """What only a change can break: the milestones it touches (or of the APs it touches)
    must lie within their AP's span."""
    for m in plan.milestones:
        wp = plan.work_package(m.ap)
        if wp is None or not {m.id, m.ap} & touched:
            continue
        if m.due < wp.start.first_day:
            raise PlanEditError(
                f"{m.id} wäre am {m.due:%d.%m.%Y} fällig, aber {wp.label} beginnt erst "
                f"{wp.start} ({wp.start.first_day:%d.%m.%Y}).")
        if m.due > wp.end.last_day:
            raise PlanEditError(
                f"{m.id} wäre am {m.due:%d.%m.%Y} fällig, aber {wp.label} endet schon "
                f"{wp.end} ({wp.end.last_day:%d.%m.%Y}).")


def _sentence(err: PlanError) -> str:
    """The file's message, as a sentence for the chat (without the file's path)."""
    where = f"{err.entry}, Feld „{err.field}“: " if err.entry and err.field else ""
    return f"Das ergäbe keinen gültigen Plan ({where}{err.problem})."


def next_milestone_id(plan: Plan, ap_id: str) -> str:
    """M4.1, M4.2, …: the first number after the AP's existing milestones."""
    number = ap_id.removeprefix("AP")
    taken = {m.id for m in plan.milestones}
    n = 1
    while f"M{number}.{n}" in taken:
        n += 1
    return f"M{number}.{n}"
