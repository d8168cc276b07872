"""The programme's reporting deadlines (issue 16): in the plan, validated, and recalled 28 and
7 days before through the post machinery, exactly once, each with the right /bericht."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Context
from bot.posts import compose
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.test_post_runner import Bot
from workflows.plan import PlanError, load_plan, parse_plan
from workflows.posts import deadline_posts, due_posts
from workflows.report import ReportDeadline, report_deadlines
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
PLAN = load_plan(TEST_PLAN)
# The test plan without its deadline lines: what the defaults give.
TEXT = re.sub(r"(?m)^(interim_report_due|final_report_months) = .*\n", "",
              TEST_PLAN.read_text(encoding="utf-8-sig"))
DEFAULTS = "overdue_max = 4"
ROOT = Path(__file__).resolve().parents[1]


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


def with_programme(lines: str, text: str = TEXT) -> str:
    """The plan text with extra lines in [programme]."""
    assert DEFAULTS in text
    return text.replace(DEFAULTS, f"{DEFAULTS}\n{lines}", 1)


def summary(deadlines: Iterable[ReportDeadline]) -> list[tuple[str, str, date, str]]:
    return [(d.id, d.title, d.due, d.period.label) for d in deadlines]


def test_default_deadlines_of_the_plan() -> None:
    assert summary(report_deadlines(PLAN)) == [
        ("ZN2025", "Zwischennachweis 2025", date(2026, 4, 30), "2025"),
        ("ZN2026", "Zwischennachweis 2026", date(2027, 4, 30), "2026"),
        # the last year goes into the Verwendungsnachweis, six months after 30.06.2027
        ("VN", "Verwendungsnachweis", date(2027, 12, 31), "Gesamtlaufzeit Q1 2025 bis Q2 2027"),
    ]
    shipped = load_plan(ROOT / "data" / "plan.toml")
    assert summary(report_deadlines(shipped)) == summary(report_deadlines(PLAN))
    # the plan's lines say what the defaults are
    assert "interim_report_due" not in TEXT
    defaults = parse_plan(TEXT, Path("p.toml"))
    assert summary(report_deadlines(defaults)) == summary(report_deadlines(PLAN))


def test_deadlines_written_in_the_plan() -> None:
    plan = parse_plan(with_programme('interim_report_due = "31.03."\nfinal_report_months = 3'),
                      Path("p.toml"))
    assert [(d.id, d.due) for d in report_deadlines(plan)] == [
        ("ZN2025", date(2026, 3, 31)), ("ZN2026", date(2027, 3, 31)),
        ("VN", date(2027, 9, 30))]
    iso = parse_plan(with_programme('interim_report_due = "05-15"'), Path("p.toml"))
    assert report_deadlines(iso)[0].due == date(2026, 5, 15)
    none = parse_plan(with_programme('interim_report_due = ""'), Path("p.toml"))
    assert [d.id for d in report_deadlines(none)] == ["VN"]
    # a programme that ends with a year: that year is in the Verwendungsnachweis
    short = parse_plan(TEXT.replace('end = "Q2 2027"', 'end = "Q4 2026"', 1)
                       .replace('"Q1 2027"', '"Q4 2026"').replace('"Q2 2027"', '"Q4 2026"'),
                       Path("p.toml"))
    assert [(d.id, d.due) for d in report_deadlines(short)] == [
        ("ZN2025", date(2026, 4, 30)), ("VN", date(2027, 6, 30))]


@pytest.mark.parametrize(("line", "field", "problem"), [
    ('interim_report_due = "29.02."', "interim_report_due", "Tag des Jahres"),
    ('interim_report_due = "31.04."', "interim_report_due", "Tag des Jahres"),
    ('interim_report_due = "April"', "interim_report_due", "Tag des Jahres"),
    ("interim_report_due = 430", "interim_report_due", "Text in Anführungszeichen"),
    ("final_report_months = 25", "final_report_months", "0 bis 24"),
    ("final_report_months = -1", "final_report_months", "ganze Zahl"),
    ("final_report_month = 6", "final_report_month", "unbekanntes Feld"),
])
def test_bad_deadlines_are_refused_naming_the_field(line: str, field: str, problem: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(with_programme(line), Path("p.toml"))
    assert (err.value.entry, err.value.field) == ("[programme]", field)
    assert problem in str(err.value)


def test_reminders_28_and_7_days_before_each_deadline() -> None:
    assert [(p.key, p.at, p.useful_until) for p in deadline_posts(PLAN, TZ)] == [
        ("deadline:ZN2025:28", local(2026, 4, 2, 8), local(2026, 4, 30)),
        ("deadline:ZN2025:7", local(2026, 4, 23, 8), local(2026, 4, 30)),
        ("deadline:ZN2026:28", local(2027, 4, 2, 8), local(2027, 4, 30)),
        ("deadline:ZN2026:7", local(2027, 4, 23, 8), local(2027, 4, 30)),
        ("deadline:VN:28", local(2027, 12, 3, 8), local(2027, 12, 31)),
        ("deadline:VN:7", local(2027, 12, 24, 8), local(2027, 12, 31)),
    ]
    fewer = replace(PLAN, programme=replace(PLAN.programme, reminder_days=(14,)))
    assert [p.key for p in deadline_posts(fewer, TZ)][:1] == ["deadline:ZN2025:14"]


def test_due_once_caught_up_while_useful_then_skipped() -> None:
    at = local(2026, 4, 2, 8)
    [due] = [d for d in due_posts(PLAN, [], TZ, at, set(), at - timedelta(minutes=5),
                                  at - timedelta(days=1)) if d.post.kind == "deadline"]
    assert (due.post.key, due.action, due.late) == ("deadline:ZN2025:28", "send", False)
    logged = {"deadline:ZN2025:28": at}
    assert not [d for d in due_posts(PLAN, [], TZ, at + timedelta(minutes=1), logged,
                                     at - timedelta(minutes=5), at - timedelta(days=1))
                if d.post.kind == "deadline"]
    # apbot was down from 1 to 10 April: the reminder comes late, marked as such
    back = local(2026, 4, 10, 9)
    [late] = [d for d in due_posts(PLAN, [], TZ, back, set(), local(2026, 4, 1), back)
              if d.post.kind == "deadline"]
    assert (late.post.key, late.action, late.late) == ("deadline:ZN2025:28", "send", True)
    # down until after the due date: no longer useful, logged as skipped
    after = local(2026, 5, 2, 9)
    stale = [d for d in due_posts(PLAN, [], TZ, after, set(), local(2026, 4, 1), after)
             if d.post.kind == "deadline"]
    assert [(d.post.key, d.action) for d in stale] == [("deadline:ZN2025:28", "skip"),
                                                       ("deadline:ZN2025:7", "skip")]


def test_reminder_text_offers_the_right_bericht(tmp_path: Path) -> None:
    store = Store.open(tmp_path, local(2026, 4, 2, 8))
    try:
        ctx = Context(Settings(team_chat_id=-100123, timezone=TZ, data_dir=tmp_path), PLAN,
                      store)
        posts = {p.key: p for p in deadline_posts(PLAN, TZ)}
        text = compose(ctx, posts["deadline:ZN2025:28"], False, local(2026, 4, 2, 8))
        assert text == ("🗂 <b>Erinnerung: Zwischennachweis 2025</b> ist fällig am Do., "
                        "30.04.2026 – in 28 Tagen. Der Sachbericht dazu (das Jahr 2025) als "
                        "Entwurf aus den Meldungen: /bericht 2025 (Word) oder /bericht 2025 pdf.")
        final = compose(ctx, posts["deadline:VN:7"], True, local(2027, 12, 27, 9))
        assert final.startswith("🗂 <b>Erinnerung: Verwendungsnachweis</b> ist fällig am Fr., "
                                "31.12.2027 – in 4 Tagen.")
        assert final.endswith(" <i>(nachgeholt)</i>")
        assert "(die ganze Laufzeit)" in final
        assert "/bericht Programm (Word) oder /bericht Programm pdf." in final
    finally:
        store.close()


async def test_the_post_runner_sends_each_reminder_once(tmp_path: Path) -> None:
    bot = Bot(tmp_path, PLAN)
    try:
        start = local(2026, 4, 2, 7, 55)
        runner = bot.runner(up_since=start)
        await runner.run_due(start)
        for minute in (0, 1, 5):
            await runner.run_due(local(2026, 4, 2, 8, minute))
        bot.restart(local(2026, 4, 2, 9))
        await bot.runner(up_since=local(2026, 4, 2, 9)).run_due(local(2026, 4, 2, 9))
        reminders = [t for t in bot.texts if "Zwischennachweis 2025" in t]
        assert len(reminders) == 1 and "in 28 Tagen" in reminders[0]
        assert [e["status"] for e in bot.log("deadline:ZN2025:28")] == ["sent"]
    finally:
        bot.store.close()


def test_preview_of_a_deadline_reminder(tmp_path: Path) -> None:
    from bot.cli.posts import UsageError, preview_text

    store = Store.open(tmp_path, local(2026, 3, 1))
    try:
        ctx = Context(Settings(team_chat_id=-100123, timezone=TZ, data_dir=tmp_path), PLAN,
                      store)
        text = preview_text(ctx, "deadline", "zn2026", local(2027, 4, 10))
        assert text.startswith("[Erinnerung Zwischennachweis 2026 (in 7 Tagen fällig) – "
                               "23.04.2027 08:00]\n🗂 Erinnerung: Zwischennachweis 2026 ist")
        assert "/bericht 2026 (Word) oder /bericht 2026 pdf." in text
        assert "Verwendungsnachweis" in preview_text(ctx, "deadline", None, local(2027, 5, 1))
        with pytest.raises(UsageError):
            preview_text(ctx, "deadline", "ZN1999", local(2027, 5, 1))
    finally:
        store.close()
