"""Waking up for automatic posts: APScheduler runs `PostRunner.run_due`, the post log decides.

APScheduler only says "look now". Every look recomputes what is due from the
plan, the store and the time, so a run that APScheduler drops or delays loses
nothing: the next look (at the latest a few minutes later) finds the post and
sends it, or logs it as skipped when it is no longer useful.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from workflows.plan import Plan
from workflows.posts import Decision, Post, due_posts, first_look_back, next_post_time
from workflows.store import Store

log = logging.getLogger(__name__)
SAFETY_TICK = timedelta(minutes=5)


class Publisher(Protocol):
    """Sends a message to a chat; raises when it could not be delivered."""

    async def publish(self, chat_id: int, message: str) -> None: ...


Compose = Callable[[Post, bool, datetime], str]  # (post, late, now) -> message


class PostRunner:
    """Finds due posts, sends each once, and logs what it did."""

    def __init__(self, store: Store, plan: Plan, tz: ZoneInfo, team_chat: Callable[[], int | None],
                 compose: Compose, publisher: Publisher, up_since: datetime) -> None:
        self.store, self.plan, self.tz = store, plan, tz
        self.team_chat = team_chat
        self.compose = compose
        self.publisher = publisher
        self.up_since = up_since

    async def run_due(self, now: datetime) -> list[Decision]:
        """Send or skip every due post; stop at the first failed send (retried next time)."""
        since = self.store.last_post_check() or now - first_look_back(self.plan)
        decisions = due_posts(self.plan, self.store.marks(), self.tz, now,
                              self.store.posted_keys(), since, self.up_since)
        done = []
        for d in decisions:
            if d.action == "skip":
                log.info("skipping %s: its time %s passed too long ago", d.post.key,
                         d.post.at.isoformat())
                self.store.log_post(d.post.key, "skipped", d.post.at, now, late=True)
                done.append(d)
                continue
            chat = self.team_chat()
            if chat is None:
                log.warning("no team chat configured: %s is not posted", d.post.key)
                return done
            try:
                await self.publisher.publish(chat, self.compose(d.post, d.late, now))
            except Exception:
                log.exception("posting %s failed; it is tried again at the next check",
                              d.post.key)
                return done
            self.store.log_post(d.post.key, "sent", d.post.at, now, late=d.late, chat_id=chat)
            log.info("posted %s%s", d.post.key, " (late)" if d.late else "")
            done.append(d)
        self.store.set_last_post_check(now)
        return done


class PostScheduler:
    """APScheduler in the bot's event loop: a check at start, at each post's time, and every
    few minutes as a safety net."""

    def __init__(self, runner: PostRunner, clock: Callable[[], datetime]) -> None:
        self.runner = runner
        self.clock = clock
        # misfire_grace_time=None: a late wake-up still runs (APScheduler's default of
        # one second would drop it); coalesce: a backlog of wake-ups runs once.
        self.scheduler = AsyncIOScheduler(
            timezone=runner.tz,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(self.check, "interval", seconds=SAFETY_TICK.total_seconds(),
                               id="safety")
        self.scheduler.add_job(self.check, "date", run_date=self.clock(), id="next")

    async def check(self) -> None:
        try:
            await self.runner.run_due(self.clock())
        finally:
            self._arm_next()

    def _arm_next(self) -> None:
        now = self.clock()
        upcoming = next_post_time(self.runner.plan, self.runner.store.marks(), self.runner.tz,
                                  now)
        if upcoming is not None:
            self.scheduler.add_job(self.check, "date", run_date=upcoming, id="next",
                                   replace_existing=True)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
