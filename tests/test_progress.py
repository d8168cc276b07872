"""Folding an AP's reports into its state: any order, newest first, and the store's order."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.progress import (
    STATES,
    APProgress,
    Author,
    Update,
    ap_progress,
    latest_progress,
    order_key,
)
from workflows.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 24, 12, tzinfo=BERLIN)  # the autumn clock change is in range
ANNA = Author(1, "Anna")


def reference(updates: list[Update], recent: int = 5) -> APProgress:
    """The rule, written plainly: sort everything, take the newest of each kind."""
    live = sorted((u for u in updates if not u.withdrawn), key=order_key)
    if not live:
        return APProgress(None, None, None, ())
    stated = [u for u in live if u.state]
    measured = [u for u in live if u.percent is not None]
    state = stated[-1].state if stated else None
    percent = measured[-1].percent if measured else None
    if state == "abgeschlossen" and (
            not measured or order_key(measured[-1]) < order_key(stated[-1])):
        percent = 100
    return APProgress(state, percent, live[-1].at, tuple(reversed(live[-recent:])))


reports = st.lists(
    st.tuples(
        st.integers(0, 72 * 3600),  # seconds after START: many share a second
        st.sampled_from([None, *STATES]),
        st.one_of(st.none(), st.integers(0, 100)),
        st.booleans(),  # withdrawn
        st.booleans(),  # written as UTC instead of Berlin time
    ),
    max_size=40,
)


def build(rows: list[tuple[int, str | None, int | None, bool, bool]]) -> list[Update]:
    updates = []
    for i, (seconds, state, percent, withdrawn, utc) in enumerate(rows, start=1):
        at = START + timedelta(seconds=seconds)
        updates.append(Update("AP3", f"Meldung {i}", ANNA, -100, i,
                              at.astimezone(UTC) if utc else at,
                              state, percent, withdrawn=withdrawn, id=i))
    return updates


@settings(max_examples=300, deadline=None)
@given(reports, st.integers(1, 7), st.randoms(use_true_random=False))
def test_any_order_and_newest_first_agree_with_the_rule(
    rows: list[tuple[int, str | None, int | None, bool, bool]], recent: int,
    rnd: random.Random,
) -> None:
    updates = build(rows)
    expected = reference(updates, recent)
    shuffled = updates[:]
    rnd.shuffle(shuffled)
    assert ap_progress(shuffled, recent) == expected
    assert latest_progress(sorted(updates, key=order_key, reverse=True), recent) == expected


def test_newest_first_stops_after_what_it_needs() -> None:
    seen: list[int] = []

    def stream() -> object:
        for i in range(1000, 0, -1):
            seen.append(i)
            yield Update("AP3", "x", ANNA, -100, i, START + timedelta(minutes=i),
                         "läuft", 50, id=i)

    progress = latest_progress(stream())  # type: ignore[arg-type]
    assert (progress.state, progress.percent, len(progress.recent)) == ("läuft", 50, 5)
    assert len(seen) == 5


def test_the_store_keeps_each_ap_newest_first(tmp_path: Path) -> None:
    s = Store.open(tmp_path, START)
    try:
        first = s.add_update(build([(60, "läuft", None, False, False)])[0], START)
        assert [u.id for u in s.updates_newest_first("AP3")] == [first.id]
        # Recorded later but written earlier (an edit that names the AP only now).
        older = s.add_update(replace(build([(10, None, 20, False, True)])[0], id=None), START)
        newer = s.add_update(replace(build([(120, None, 40, False, False)])[0], id=None),
                             START)
        same_second = s.add_update(replace(newer, id=None, text="gleiche Sekunde"), START)
        assert [u.id for u in s.updates_newest_first("AP3")] == \
            [same_second.id, newer.id, first.id, older.id]
        s.save_update(replace(newer, withdrawn=True), START)
        assert [u.withdrawn for u in s.updates_newest_first("AP3")] == \
            [False, True, False, False]
        moved = replace(first, ap="AP4")  # a record that changes its AP
        s.save_update(moved, START)
        assert [u.id for u in s.updates_newest_first("AP3")] == \
            [same_second.id, newer.id, older.id]
        assert [u.id for u in s.updates_newest_first("AP4")] == [first.id]
        assert [u.id for u in s.updates("AP3")] == [older.id, newer.id, same_second.id]
        assert [u.id for u in s.updates("AP4")] == [first.id]
        assert latest_progress(s.updates_newest_first("AP3")) == \
            ap_progress(s.updates("AP3"))
    finally:
        s.close()
