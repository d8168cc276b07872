"""`python -m tests.clocked_bot …`: apbot with its clock set to APBOT_TEST_NOW, for tests.

End-to-end tests run the real process at a date of their choosing: the clock starts
at APBOT_TEST_NOW (an ISO instant with offset) and runs on in real time. This entry
point lives in tests/, which is not installed; `python -m bot` knows no such variable,
so production cannot switch it on by accident.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.__main__ import main
from bot.messages import Clock

START_VARIABLE = "APBOT_TEST_NOW"


def clocks_from(start: datetime) -> Callable[[ZoneInfo], Clock]:
    """Clocks showing `start` now and running on with the machine's monotonic time."""
    if start.tzinfo is None:
        raise SystemExit(f"{START_VARIABLE} needs an offset, e.g. 2026-11-26T10:00:00+01:00")
    began = time.monotonic()

    def clock_for(tz: ZoneInfo) -> Clock:
        def now() -> datetime:
            return (start + timedelta(seconds=time.monotonic() - began)).astimezone(tz)
        return now
    return clock_for


if __name__ == "__main__":
    sys.exit(main(clock_for=clocks_from(datetime.fromisoformat(os.environ[START_VARIABLE]))))
