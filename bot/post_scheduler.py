"""APScheduler wakes the post runner: at start, at each post's time, and every few minutes.

The runner decides from the post log and the time what is due (workflows/schedule.py);
this only says "look now". Times come from the process's one clock, which in tests may
be set to another date. APScheduler itself counts in the machine's time, so the next
look is handed to it as a delay from now, not as the clock's date.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.messages import Clock
from workflows.plan import Plan
from workflows.posts import next_post_time, utc
from workflows.schedule import Notify, PostRunner

log = logging.getLogger(__name__)
SAFETY_TICK = timedelta(minutes=5)


class PostScheduler:
    """APScheduler in the bot's event loop: a check at start, at each post's time, and every
    few minutes as a safety net.

    After each check the runner's notices for the admins go to `notify` (when given; it
    may be a coroutine function), else only to the log.
    """

    def __init__(self, runner: PostRunner, clock: Clock, notify: Notify | None = None) -> None:
        self.runner = runner
        self.clock = clock
        self.notify = notify
        # misfire_grace_time=None: a late wake-up still runs (APScheduler's default of
        # one second would drop it); coalesce: a backlog of wake-ups runs once.
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(self.check, "interval", seconds=SAFETY_TICK.total_seconds(),
                               id="safety")
        self.scheduler.add_job(self.check, id="next")  # no trigger: at once

    async def check(self) -> None:
        try:
            await self.runner.run_due(self.clock())
        except Exception:
            log.exception("the check for posts failed; the next one comes within %s",
                          SAFETY_TICK)
        finally:
            self._arm_next()
        await self.hand_out_notices()

    async def hand_out_notices(self) -> None:
        """Give the runner's notices to `notify`; one that fails is logged, not retried."""
        notices = self.runner.take_notices()
        for text in notices:
            log.warning("notice for the admins: %s", text)
            if self.notify is None:
                continue
            try:
                result = self.notify(text)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("could not hand out the notice")

    def _arm_next(self) -> None:
        now = self.clock()
        try:
            upcoming = next_post_time(self.runner.plan, self.runner.store.marks(),
                                      self.runner.tz, now, self.runner.store.meeting_work())
        except Exception:
            log.exception("could not work out the next post's time; the safety tick remains")
            return
        if upcoming is not None:
            delay = max(utc(upcoming) - utc(now), timedelta(0))
            # APScheduler runs on the machine's time: hand it the delay, not the clock's date.
            self.scheduler.add_job(self.check, "date", run_date=datetime.now(UTC) + delay,
                                   id="next", replace_existing=True)

    def replan(self, plan: Plan) -> None:
        """The team changed its plan: decide from the new one, and look again now."""
        self.runner.plan = plan
        if self.scheduler.running:
            self.scheduler.add_job(self.check, id="next", replace_existing=True)

    def look_now(self) -> None:
        """Something that decides posts changed (a meeting ended): look again now."""
        if self.scheduler.running:
            self.scheduler.add_job(self.check, id="next", replace_existing=True)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def stop(self, grace: float) -> None:
        """No more checks; a check under way gets `grace` seconds to finish its send, so
        that a part Telegram accepted is logged as sent and not repeated after a restart."""
        if not self.scheduler.running:
            return
        # Paused first: APScheduler's shutdown cancels a check that is still running.
        self.scheduler.pause()
        deadline = asyncio.get_running_loop().time() + grace
        while self.runner.busy and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        self.shutdown()
