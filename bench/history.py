"""Generate a realistic stored history of progress updates, through the real Store API.

The benchmarks need data directories with 1k, 10k and 50k stored updates. They are
written with `Store.add_update` exactly as the bot writes them, but in
`Store.transaction()` blocks (one disk write per block), so that 50k take seconds,
not the hours that 50k single writes of a growing file would take.

    python -m bench.history /tmp/apbot-50k 50000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from workflows.progress import Author, Update
from workflows.store import Store

TEAM_CHAT_ID = -100123  # the fake Bot API's default group, the team chat in the benchmarks
TZ = ZoneInfo("Europe/Berlin")
HISTORY_START = datetime(2025, 1, 6, 8, 0, tzinfo=TZ)
FIRST_MESSAGE_ID = 100_000  # clear of the message ids the fake hands out (from 1)

# The team: ten members, the same as the benchmark's simulated members.
MEMBERS = (
    Author(2001, "Anna Schmidt"),
    Author(2002, "Bernd Krause"),
    Author(2003, "Claudia Wagner"),
    Author(2004, "Dirk Hoffmann"),
    Author(2005, "Elke Neumann"),
    Author(2006, "Frank Richter"),
    Author(2007, "Gabi Lehmann"),
    Author(2008, "Heike Braun"),
    Author(2009, "Ingo Zimmermann"),
    Author(2010, "Jana Hartmann"),
)

# How often each AP is reported on: the running, busy ones far more than AP 1 or 13.
AP_WEIGHTS = {1: 2, 2: 5, 3: 12, 4: 8, 5: 14, 6: 7, 7: 6, 8: 12, 9: 9, 10: 8, 11: 7,
              12: 6, 13: 4}

ACTIVITIES = (
    "Einladungen verschickt",
    "Protokoll der Steuerungsgruppe abgestimmt",
    "Termin mit dem Schulamt vereinbart",
    "Entwurf an die Amtsleitung gegeben",
    "Rückmeldungen der Kitas eingearbeitet",
    "Workshop mit Trägern vorbereitet",
    "Abstimmung mit TransMit zum Monitoring",
    "Datenabfrage beim Statistischen Landesamt gestellt",
    "Raum für die Bildungskonferenz reserviert",
    "Pressemitteilung mit der Pressestelle abgestimmt",
    "Fragebogen für die Schulen überarbeitet",
    "Netzwerktreffen AK Schule-Wirtschaft durchgeführt",
    "Kapitel zum lebenslangen Lernen begonnen",
    "Portal-Konzept mit der IT besprochen",
    "Ergebnisse im Jour fixe vorgestellt",
)
STATES = ("läuft", "in Arbeit", "verzögert", "im Verzug", "blockiert", "pausiert",
          "abgeschlossen")


@dataclass(frozen=True)
class Generated:
    count: int
    seconds: float
    path: Path


def _text(rng: random.Random, ap: int) -> tuple[str, str | None, int | None]:
    """A chat message as the team writes it, and the state and percent it reports."""
    activity = rng.choice(ACTIVITIES)
    state = rng.choice(STATES) if rng.random() < 0.4 else None
    percent = rng.randrange(5, 100, 5) if rng.random() < 0.35 else None
    head = rng.choice((f"AP{ap}:", f"AP {ap}:", f"#AP{ap}", f"Arbeitspaket {ap}:"))
    parts = [f"{head} {activity}"]
    if state:
        parts.append(state)
    if percent is not None:
        parts.append(f"{percent} %")
    canonical = {"in Arbeit": "läuft", "im Verzug": "verzögert", "pausiert": "zurückgestellt"}
    return ", ".join(parts), canonical.get(state or "", state), percent


def updates(count: int, end: datetime, seed: int = 1) -> list[Update]:
    """`count` updates from 10 members, spread over the working hours since January 2025."""
    rng = random.Random(seed)
    aps = list(AP_WEIGHTS)
    weights = list(AP_WEIGHTS.values())
    span = (end - HISTORY_START).total_seconds()
    result = []
    for i in range(count):
        moment = HISTORY_START + timedelta(seconds=span * i / max(1, count))
        moment = moment.replace(hour=8 + rng.randrange(9), minute=rng.randrange(60))
        ap = rng.choices(aps, weights)[0]
        text, state, percent = _text(rng, ap)
        forwarded = "Bürgermeisterin Vogel" if rng.random() < 0.02 else None
        result.append(Update(
            ap=f"AP{ap}", text=text, author=rng.choice(MEMBERS), chat_id=TEAM_CHAT_ID,
            message_id=FIRST_MESSAGE_ID + i, at=moment, state=state, percent=percent,
            forwarded_from=forwarded, withdrawn=rng.random() < 0.02,
        ))
    return result


def generate(data_dir: Path, count: int, now: datetime | None = None, *,
             block: int = 1000, seed: int = 1) -> Generated:
    """Write `count` updates into the store in `data_dir` (created if missing)."""
    now = now or datetime.now(TZ)
    started = time.perf_counter()
    history = updates(count, now - timedelta(days=1), seed)
    store = Store.open(data_dir, now)
    try:
        for first in range(0, len(history), block):
            with store.transaction():
                for update in history[first:first + block]:
                    store.add_update(update, now)
    finally:
        store.close()
    return Generated(count, time.perf_counter() - started, data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history",
                                     description="Fill a data directory with N stored updates.")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--block", type=int, default=1000, help="updates per transaction")
    args = parser.parse_args(argv)
    result = generate(args.data_dir, args.count, block=args.block)
    print(f"{result.count} updates in {result.path} ({result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
