"""The plan file the bot runs on: written atomically, the version before each change kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from workflows.storage import atomic_write

VERSIONS = "plan-versions"
VERSIONS_KEPT = 100


def save_plan_text(target: Path, text: str, now: datetime) -> Path | None:
    """Write `text` as the plan at `target` (temporary file, fsync, rename), after keeping
    the text it replaces in `plan-versions/` beside it; returns that kept version.

    A crash at any moment leaves either the old or the new file, never a broken one.
    """
    kept: Path | None = None
    if target.exists():
        versions = target.parent / VERSIONS
        versions.mkdir(exist_ok=True)
        kept = versions / f"plan-{now.strftime('%Y%m%d-%H%M%S-%f')}.toml"
        atomic_write(kept, target.read_bytes())
        for old in sorted(versions.glob("plan-*.toml"))[:-VERSIONS_KEPT]:
            old.unlink(missing_ok=True)
    atomic_write(target, text.encode("utf-8"))
    return kept
