"""Versions of calendar events: a SEQUENCE that grows exactly when an event changes.

A calendar program takes an event from a file (or a subscribed URL) as news about an
event it has, with the same UID, only when its SEQUENCE is higher (RFC 5545 3.8.7.4).
Counting minutes since an epoch, as apbot once did, gives two exports of the same
minute the same number even when an event changed in between, and a higher number
every minute when nothing changed. Instead the store keeps, per UID, a digest of the
event's content as last exported, its sequence number and when it last changed: a
different digest is the next version, the same digest keeps number and time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class EventVersion:
    """One calendar event as last exported."""

    uid: str
    digest: str  # of everything in the event but its SEQUENCE and DTSTAMP
    sequence: int  # 0 for the first version
    changed: datetime  # when this version was first exported (aware)


def next_versions(known: Mapping[str, EventVersion], digests: Mapping[str, str],
                  now: datetime) -> dict[str, EventVersion]:
    """The version of every event in `digests` (uid → digest of its content) at `now`.

    An event never exported gets sequence 0; one whose digest differs from the known one
    the known sequence + 1 (also when it changed back: a calendar program has seen the
    version in between); an unchanged one keeps its version.
    """
    found = {}
    for uid, digest in digests.items():
        old = known.get(uid)
        if old is None:
            found[uid] = EventVersion(uid, digest, 0, now)
        elif old.digest == digest:
            found[uid] = old
        else:
            found[uid] = EventVersion(uid, digest, old.sequence + 1, now)
    return found
