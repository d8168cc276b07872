"""After the programme's end (30.06.2027 in the test plan): apbot speaks of the past.

`/status`, `/plan` and the schedule commands say that the programme ended, questions about
"now" and "next" get the last thing and what is left to do, `/bericht` without a period
gives the whole programme (the final report), and no automatic post is due any more.
Every test injects its `now`; nothing here reads the clock.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.files import report_period
from bot.messages import Incoming, Reply
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.office_files import docx_lines
from workflows.plan import Plan, parse_plan
from workflows.posts import (
    due_posts,
    meeting_posts,
    milestone_posts,
    next_post_time,
    planned_posts,
    programme_closes,
    quarterly_posts,
)
from workflows.progress import Author, MilestoneMark
from workflows.queries import programme_over
from workflows.report import programme_period
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
AFTER = datetime(2027, 9, 1, 12, 0, tzinfo=TZ)  # two months after the end
LONG_AFTER = datetime(2028, 3, 15, 12, 0, tzinfo=TZ)  # the next spring
LAST_DAY = datetime(2027, 6, 30, 12, 0, tzinfo=TZ)  # the programme's last day
# 00:30 in Berlin on 1 July is still 30 June in UTC: the local day decides.
FIRST_NIGHT = datetime(2027, 7, 1, 0, 30, tzinfo=TZ)
DURING = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026
ENDED = "Das Programm endete am Mi., 30.06.2027"

TEAM = -100123
ADMIN, ANNA = 1, 2
_message_ids = itertools.count(9000)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({ADMIN}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=TEST_PLAN)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, DURING)
    yield s
    s.close()


def ask(core: Core, text: str, now: datetime, **fields: Any) -> list[Reply]:
    user = fields.pop("user_id", ANNA)
    fields.setdefault("chat_id", TEAM)
    fields.setdefault("chat_type", "supergroup")
    return core.handle(Incoming(text=text, user_id=user, user_name="Anna",
                                message_id=next(_message_ids), **fields), now)


def answer(core: Core, text: str, now: datetime, **fields: Any) -> str:
    replies = ask(core, text, now, **fields)
    assert len(replies) == 1, replies
    assert replies[0].attachment is None
    return replies[0].text


def question(core: Core, text: str, now: datetime) -> str:
    """A plain-German question, asked as people do in the group: "Bot, …"."""
    return answer(core, f"Bot, {text}", now)


def line_with(text: str, needle: str) -> str:
    [line] = [line for line in text.splitlines() if needle in line]
    return line


def reach(core: Core, text: str, now: datetime) -> None:
    """Record a milestone as reached the way the team does: a message in the group."""
    replies = ask(core, text, now)
    assert any("als erreicht vermerkt" in r.text for r in replies), replies


BOTH = pytest.mark.parametrize("now", [AFTER, LONG_AFTER], ids=["2027-09-01", "2028-03-15"])


# -- the engine's notion of "over" ------------------------------------------------------


def test_the_programme_is_over_from_the_first_local_day_after_its_end(plan: Plan) -> None:
    assert not programme_over(plan, LAST_DAY.date())
    assert programme_over(plan, FIRST_NIGHT.date())
    assert programme_over(plan, LONG_AFTER.date())


# -- /status and /plan -------------------------------------------------------------------


@BOTH
def test_status_of_an_ap_that_ended_with_the_programme(core: Core, now: datetime) -> None:
    text = answer(core, "/status AP3", now)
    assert "Heute: endete laut Plan am Mi., 30.06.2027, mit dem Ende des Programms" in text
    assert "läuft" not in text and "Quartal" not in text
    assert line_with(text, "M3.1").endswith(
        "– war fällig am Mi., 31.12.2025 – nicht als erreicht vermerkt")
    assert "überfällig" not in text  # no "overdue for 600 days" that grows every day


def test_status_of_an_ap_that_ended_before_the_programme(core: Core) -> None:
    text = answer(core, "/status AP1", AFTER)
    assert ("Heute: endete laut Plan am Mo., 30.06.2025 · Programm beendet am Mi., 30.06.2027"
            in text)


def test_status_during_the_programme_is_unchanged(core: Core) -> None:
    assert "Heute: laut Plan beendet seit Mo., 30.06.2025" in answer(core, "/status AP1", DURING)
    assert "Heute: läuft laut Plan – Quartal 10 von 10" in answer(core, "/status AP3", LAST_DAY)
    assert "überfällig" in answer(core, "/status AP3", LAST_DAY)


@pytest.mark.parametrize("now", [FIRST_NIGHT, AFTER, LONG_AFTER])
def test_no_status_claims_a_quarter_that_does_not_exist(core: Core, plan: Plan,
                                                        now: datetime) -> None:
    for wp in plan.work_packages:
        text = answer(core, f"/status {wp.id}", now)
        heute = line_with(text, "Heute:")
        assert "endete laut Plan am" in heute, heute
        assert not re.search(r"Quartal \d+ von \d+", text)


@BOTH
def test_plan_says_the_programme_ended(core: Core, now: datetime) -> None:
    text = answer(core, "/plan", now)
    second = text.splitlines()[1]
    assert second.startswith(f"{ENDED}. Den Abschlussbericht über die ganze Laufzeit schickt "
                             "/bericht")
    ap_lines = [line for line in text.splitlines() if line.startswith("<b>AP")]
    assert len(ap_lines) == 13
    assert all(" · beendet" in line and "läuft" not in line for line in ap_lines)
    assert "Meilensteine 0/4 ⚠️ 4 nicht erreicht" in line_with(text, "<b>AP 3</b>")
    assert "überfällig" not in text


def test_plan_on_the_last_day_still_runs(core: Core) -> None:
    text = answer(core, "/plan", LAST_DAY)
    assert "endete" not in text
    assert "läuft (10/10) · Meilensteine 0/4 ⚠️ 3 überfällig" in line_with(text, "<b>AP 3</b>")


# -- the schedule commands ---------------------------------------------------------------


@BOTH
def test_quartal_after_the_end(core: Core, now: datetime) -> None:
    text = answer(core, "/quartal", now)
    assert f"{ENDED} – danach steht nichts mehr im Plan." in text
    assert "<b>Bis zum Programmende nicht als erreicht vermerkt</b>" in text
    assert "/quartal Q2 2027" in text and "/bericht Programm" in text
    assert "überfällig" not in text


def test_a_quarter_after_the_end_asked_during_the_programme(core: Core) -> None:
    text = answer(core, "/quartal Q4 2027", DURING)
    assert text.startswith("<b>Q4 2027</b> (01.10.2027 – 31.12.2027)")
    assert "Das Programm endet am Mi., 30.06.2027 – danach steht nichts mehr im Plan." in text
    assert "Keine Arbeitspakete laufen in dieser Zeit." in text


def test_the_last_quarter_after_the_end_shows_what_it_held(core: Core) -> None:
    text = answer(core, "/quartal Q2 2027", AFTER)
    assert "Enden: AP 3, AP 4" in text
    assert line_with(text, "M3.4").endswith("war fällig am Mi., 30.06.2027 – nicht als erreicht "
                                            "vermerkt")
    assert "Das Programm endete" not in text  # the quarter lies wholly inside it


def test_a_year_across_the_end_says_where_the_programme_stopped(core: Core) -> None:
    text = question(core, "Was ist 2027 fällig?", AFTER)
    assert text.startswith("<b>2027</b>")
    assert text.endswith(f"{ENDED}; danach steht nichts mehr im Plan.")
    during = question(core, "Was ist 2027 fällig?", DURING)
    assert during.endswith("Das Programm endet am Mi., 30.06.2027; danach steht nichts mehr "
                           "im Plan.")


@BOTH
def test_meilensteine_after_the_end(core: Core, now: datetime) -> None:
    reach(core, "Leitbild beschlossen am 20.03.2026", now)
    text = answer(core, "/meilensteine", now)
    assert f"{ENDED}: 1 von 6 Meilensteinen sind als erreicht vermerkt." in text
    assert "<b>Bis zum Programmende nicht als erreicht vermerkt</b>" in text
    assert "<b>Erreicht</b>" in text
    assert "M2.1 Leitbild beschlossen – erreicht am 20.03.2026" in text
    assert "Fällig in den nächsten 90 Tagen" not in text and "überfällig" not in text
    assert "„BiKo hat stattgefunden am 31.12.2025“" in text  # how to record one late


@BOTH
def test_naechste_after_the_end(core: Core, now: datetime) -> None:
    text = answer(core, "/naechste", now)
    assert text.startswith(f"Im Plan steht nichts mehr an. {ENDED}.")
    assert "/bericht" in text and "/bericht 2027" in text


def test_naechste_on_the_last_day_names_the_end(core: Core) -> None:
    text = answer(core, "/naechste", LAST_DAY)
    assert text.splitlines()[1:3] == ["• Mi., 30.06.2027 · M13.1 Bericht Fachkräfte · heute",
                                      "• Mi., 30.06.2027 · M3.4 BiKo hat stattgefunden · heute"]
    assert text.endswith("Danach nichts mehr: Das Programm endet am Mi., 30.06.2027.")


@BOTH
def test_termine_after_the_end_names_the_last_meetings(core: Core, now: datetime) -> None:
    text = answer(core, "/termine", now)
    assert text == (f"{ENDED} – mit ihm enden die Sitzungen im Plan. Die letzten: Jour fixe "
                    "Koordinierungsteam am Di., 29.06.2027 10:00, Steuerungsgruppe Bildung am "
                    "Mi., 14.04.2027 14:00.")


def test_termine_in_the_last_weeks_stop_at_the_end(core: Core) -> None:
    text = answer(core, "/termine", datetime(2027, 6, 14, 12, 0, tzinfo=TZ))
    assert [line for line in text.splitlines() if line.startswith("•")] == [
        "• Di., 15.06.2027 10:00 Jour fixe Koordinierungsteam",
        "• Di., 22.06.2027 10:00 Jour fixe Koordinierungsteam",
        "• Di., 29.06.2027 10:00 Jour fixe Koordinierungsteam",
    ]
    assert text.endswith("Das Programm endet am Mi., 30.06.2027; danach stehen keine Sitzungen "
                         "mehr im Plan.")
    assert answer(core, "/termine", LAST_DAY) == (
        "In den nächsten 8 Wochen stehen keine Sitzungen im Plan. Das Programm endet am "
        "Mi., 30.06.2027.")


@BOTH
def test_ueberfaellig_after_the_end(core: Core, now: datetime) -> None:
    for text in (answer(core, "/ueberfaellig", now), question(core, "Was ist überfällig?", now)):
        assert text.startswith(f"{ENDED} – seitdem wird nichts mehr fällig.")
        assert "<b>Bis zum Programmende nicht als erreicht vermerkt</b>" in text
        assert len([line for line in text.splitlines() if line.startswith("⚠️")]) == 6
        assert "Arbeitspakete ohne Meldung" not in text


def test_ueberfaellig_after_the_end_when_all_were_reached(core: Core) -> None:
    for text in ("Leitbild beschlossen am 20.03.2026", "Bericht Fachkräfte erstellt am 15.06.2027",
                 *(f"BiKo hat stattgefunden am {d}" for d in
                   ("01.12.2025", "01.06.2026", "01.12.2026", "01.06.2027"))):
        reach(core, text, AFTER)
    assert answer(core, "/ueberfaellig", AFTER) == (
        f"{ENDED} – seitdem wird nichts mehr fällig.\n"
        "Alle Meilensteine sind als erreicht vermerkt. 👍")


@BOTH
def test_zusammenfassung_after_the_end_summarises_no_meeting(core: Core,
                                                              now: datetime) -> None:
    text = answer(core, "/zusammenfassung", now)
    assert text.startswith(f"Es steht keine Teamsitzung mehr an. {ENDED}.")
    assert "Jour fixe" not in text and "/bericht" in text


def test_zusammenfassung_at_the_end(core: Core) -> None:
    last_meeting = datetime(2027, 6, 29, 9, 30, tzinfo=TZ)
    assert answer(core, "/zusammenfassung", last_meeting).startswith(
        "📝 <b>Jour fixe Koordinierungsteam</b> – Di., 29.06.2027 10:00")
    assert answer(core, "/zusammenfassung", LAST_DAY).startswith(
        "Bis zum Programmende am Mi., 30.06.2027 steht keine Teamsitzung mehr im Plan.")


def test_vorschau_after_the_end(core: Core) -> None:
    text = answer(core, "/vorschau", AFTER, user_id=ADMIN, chat_id=ADMIN, chat_type="private")
    assert (f"{ENDED} – seitdem poste ich von selbst nur noch die Erinnerungen an den "
            "Verwendungsnachweis") in text
    assert text.endswith("In diesem Zeitraum plane ich keine Beiträge.")
    december = datetime(2027, 11, 20, 9, 0, tzinfo=TZ)
    text = answer(core, "/vorschau", december, user_id=ADMIN, chat_id=ADMIN,
                  chat_type="private")
    assert text.endswith("• Fr., 03.12.2027 08:00 – Erinnerung Verwendungsnachweis "
                         "(in 28 Tagen fällig)")


# -- questions -----------------------------------------------------------------------------


@BOTH
def test_next_biko_after_the_last_one(core: Core, now: datetime) -> None:
    text = question(core, "Wann ist die nächste BiKo?", now)
    first, others, report = text.splitlines()
    assert first == ("Laut Plan steht keine Bildungskonferenz (BiKo) mehr an – das Programm "
                     "endete am Mi., 30.06.2027. Die letzte laut Plan: <b>M3.4 BiKo hat "
                     "stattgefunden</b> (AP 3), fällig Mi., 30.06.2027 – nicht als erreicht "
                     "vermerkt.")
    assert others.startswith("Ebenfalls nicht als erreicht vermerkt: M3.1 (fällig 31.12.2025), "
                             "M3.2 (fällig 30.06.2026), M3.3 (fällig 31.12.2026). Ist eine davon")
    assert report.startswith("Den Abschlussbericht über die ganze Laufzeit schickt /bericht")


def test_next_biko_after_the_end_when_the_last_was_reached(core: Core) -> None:
    reach(core, "BiKo hat stattgefunden am 01.12.2025", AFTER)
    reach(core, "BiKo hat stattgefunden am 01.06.2026", AFTER)
    reach(core, "BiKo hat stattgefunden am 01.12.2026", AFTER)
    reach(core, "BiKo hat stattgefunden am 24.06.2027", AFTER)
    text = question(core, "Wann ist die nächste BiKo?", AFTER)
    assert text.splitlines()[0].endswith("fällig Mi., 30.06.2027 – erreicht am 24.06.2027.")
    assert "nicht als erreicht" not in text


def test_next_milestone_after_the_end_in_good_german(core: Core) -> None:
    text = question(core, "Wann ist der nächste Meilenstein?", AFTER)
    assert text.startswith("Laut Plan steht kein Meilenstein mehr an – das Programm endete")
    assert "Ist einer davon erreicht" in text


def test_next_biko_during_the_programme_is_unchanged(core: Core) -> None:
    text = question(core, "Wann ist die nächste BiKo?", DURING)
    assert text.startswith("Nächste Bildungskonferenz (BiKo) laut Plan: <b>M3.3")
    assert "Programm" not in text


@BOTH
def test_what_runs_now_after_the_end(core: Core, now: datetime) -> None:
    text = question(core, "Was läuft gerade?", now)
    assert text == ("Laut Plan läuft heute kein Arbeitspaket mehr: Das Programm endete am "
                    "Mi., 30.06.2027. Was erreicht wurde, zeigen /plan und /meilensteine; den "
                    "Bericht über die ganze Laufzeit schickt /bericht Programm.")


@BOTH
def test_this_quarter_after_the_end(core: Core, now: datetime) -> None:
    text = question(core, "Was ist dieses Quartal fällig?", now)
    assert text.startswith("<b>dieses Quartal (Q")
    assert f"{ENDED} – danach steht nichts mehr im Plan." in text


@BOTH
def test_how_is_ap7_after_the_end(core: Core, now: datetime) -> None:
    text = question(core, "Wie steht AP 7?", now)
    assert "Heute: endete laut Plan am Mi., 30.06.2027, mit dem Ende des Programms" in text


@pytest.mark.parametrize("text", ["Bis wann läuft das Programm?", "Wann endet das Programm?",
                                  "Wie lange dauert das Programm noch?",
                                  "Ist das Programm vorbei?"])
def test_when_the_programme_ends(core: Core, text: str) -> None:
    assert question(core, text, DURING) == (
        "Das Programm läuft laut Plan von Q1 2025 bis Q2 2027 (01.01.2025 – 30.06.2027). "
        "Es endet am Mi., 30.06.2027 – noch 216 Tage.")
    assert question(core, text, LAST_DAY).endswith("Es endet am Mi., 30.06.2027 – heute.")
    after = question(core, text, AFTER)
    assert after.startswith("Das Programm lief von Q1 2025 bis Q2 2027 (01.01.2025 – "
                            "30.06.2027) und endete am Mi., 30.06.2027 – vor 63 Tagen. "
                            "Den Abschlussbericht über die ganze Laufzeit schickt /bericht")


def test_open_milestones_after_the_end(core: Core) -> None:
    text = question(core, "Welche Meilensteine sind 2026 noch offen?", AFTER)
    assert text.startswith("<b>Meilensteine 2026, bis zum Programmende nicht als erreicht "
                           "vermerkt</b>")


# -- /bericht: the final report ------------------------------------------------------------


def test_report_period_after_the_end_is_the_whole_programme(plan: Plan) -> None:
    whole = programme_period(plan)
    assert (whole.label, whole.start, whole.end, whole.kind) == (
        "Gesamtlaufzeit Q1 2025 bis Q2 2027", date(2025, 1, 1), date(2027, 6, 30), "programme")
    assert report_period("", AFTER.date(), plan) == whole
    assert report_period("", LONG_AFTER.date(), plan) == whole
    assert report_period("", FIRST_NIGHT.date(), plan) == whole
    # during the programme the default stays this year; a year is always a year
    assert report_period("", LAST_DAY.date(), plan).label == "2027"  # type: ignore[union-attr]
    assert report_period("2027", AFTER.date(), plan).label == "2027"  # type: ignore[union-attr]
    for words in ("Programm", "gesamt", "Gesamtlaufzeit", "ganze Laufzeit", "Abschlussbericht",
                  "Verwendungsnachweis"):
        assert report_period(words, DURING.date(), plan) == whole, words
    assert report_period("Programm", DURING.date()) is None  # without the plan: unknown


@BOTH
def test_bericht_after_the_end_sends_the_final_report(core: Core, now: datetime) -> None:
    [reply] = ask(core, "/bericht", now)
    file = reply.attachment
    assert file is not None and file.filename == "sachbericht-programm.docx"
    assert file.caption.startswith("📝 <b>Sachbericht Gesamtlaufzeit Q1 2025 bis Q2 2027</b> "
                                   "(01.01.2025 – 30.06.2027) als Word-Datei")
    assert "Verwendungsnachweis" in file.caption and "/bericht 2027" in file.caption
    assert "/bericht Programm pdf" in file.caption
    lines = docx_lines(file.data)
    assert lines[0] == "Sachbericht Gesamtlaufzeit Q1 2025 bis Q2 2027"
    assert "Berichtszeitraum: 01.01.2025 – 30.06.2027" in lines
    assert "Stand der Angaben: 30.06.2027" in lines
    # the command line knows no programme period: the fallback does not send people there
    assert "--period" not in file.fallback_text


def test_bericht_with_a_year_after_the_end_is_that_year(core: Core) -> None:
    [reply] = ask(core, "/bericht 2027", AFTER)
    assert reply.attachment is not None
    assert reply.attachment.filename == "sachbericht-2027.docx"


def test_bericht_programm_during_the_programme(core: Core) -> None:
    [reply] = ask(core, "/bericht Programm", DURING)
    assert reply.attachment is not None
    assert reply.attachment.filename == "sachbericht-programm.docx"
    assert any("(der Berichtszeitraum läuft noch)" in line
               for line in docx_lines(reply.attachment.data))


def test_bericht_usage_names_the_default(core: Core) -> None:
    assert "/bericht (ganze Laufzeit)" in answer(core, "/bericht Murks", AFTER)
    during = answer(core, "/bericht Murks", DURING)
    assert "/bericht (dieses Jahr)" in during and "/bericht Programm" in during


@pytest.mark.parametrize("command", ["/hilfe", "/start"])
def test_help_names_the_final_report(core: Core, command: str) -> None:
    line = line_with(answer(core, command, AFTER), "/bericht [")
    assert line.startswith("/bericht [2026 | Q3 2026 | Programm] [pdf] – ")
    assert "nach Programmende: die ganze Laufzeit" in line


# -- automatic posts -----------------------------------------------------------------------

END_OF_TEST = datetime(2028, 12, 31, 23, 59, tzinfo=TZ)


def mark(milestone: str, on: date) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=on, author=Author(ANNA, "Anna"),
                         chat_id=TEAM, message_id="1", at=datetime.combine(on, time(12), TZ))


def with_due(plan_text: str, old: str, new: str) -> Plan:
    assert plan_text.count(old) == 1
    return parse_plan(plan_text.replace(old, new), Path("variant.toml"))


def test_after_the_programme_only_the_verwendungsnachweis_is_recalled(plan: Plan) -> None:
    first_night = datetime(2027, 7, 1, 0, 0, tzinfo=TZ)
    # due six months after the end (31.12.2027): reminded 28 and 7 days before
    assert [(p.key, p.at) for p in planned_posts(plan, [], TZ, first_night, END_OF_TEST)] == [
        ("deadline:VN:28", datetime(2027, 12, 3, 8, 0, tzinfo=TZ)),
        ("deadline:VN:7", datetime(2027, 12, 24, 8, 0, tzinfo=TZ))]
    assert meeting_posts(plan, TZ, first_night, END_OF_TEST) == []
    closes = programme_closes(plan, TZ)
    assert closes == datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=TZ)
    everything = planned_posts(plan, [], TZ, datetime(2024, 12, 1, tzinfo=TZ), END_OF_TEST)
    others = [p for p in everything if p.subject != "VN"]
    assert others and max(p.at for p in others) <= closes
    assert all(p.useful_until <= closes for p in others)


def test_no_quarter_overview_after_the_last_quarter(plan: Plan) -> None:
    assert [p.subject for p in quarterly_posts(plan, TZ)][-1] == "Q2 2027"


def test_milestones_due_on_the_last_day_get_reminders_but_no_overdue_notice(plan: Plan) -> None:
    keys = {p.key for p in milestone_posts(plan, TZ, [])}
    for m in ("M3.4", "M13.1"):
        assert {f"milestone:{m}:28", f"milestone:{m}:7"} <= keys
        assert not any(k.startswith(f"overdue:{m}:") for k in keys)
    assert {f"overdue:M2.1:{n}" for n in (1, 2, 3, 4)} <= keys  # inside the programme: all four


def test_an_overdue_series_stops_at_the_end(plan: Plan) -> None:
    text = TEST_PLAN.read_text(encoding="utf-8-sig")
    early = with_due(text, 'id = "M13.1"\nap = "AP13"\ntitle = "Bericht Fachkräfte"\n'
                     'due = "Q2 2027"', 'id = "M13.1"\nap = "AP13"\n'
                     'title = "Bericht Fachkräfte"\ndue = "2027-06-10"')
    notices = [p for p in milestone_posts(early, TZ, []) if p.key.startswith("overdue:M13.1")]
    assert [(p.key, p.at) for p in notices] == [
        ("overdue:M13.1:1", datetime(2027, 6, 11, 8, 0, tzinfo=TZ)),
        ("overdue:M13.1:2", datetime(2027, 6, 25, 8, 0, tzinfo=TZ)),
    ]
    # a notice missed while apbot was down is not caught up after the end
    assert notices[1].useful_until == programme_closes(early, TZ)
    decisions = due_posts(early, [], TZ, datetime(2027, 7, 2, 9, 0, tzinfo=TZ), set(),
                          since=datetime(2027, 6, 20, tzinfo=TZ),
                          up_since=datetime(2027, 7, 2, 9, 0, tzinfo=TZ))
    assert [(d.post.key, d.action) for d in decisions if d.post.kind == "overdue"] == [
        ("overdue:M13.1:2", "skip")]
    assert not [d for d in decisions if d.action == "send"]


def test_the_last_meeting_summaries_come_before_the_end(plan: Plan) -> None:
    posts = meeting_posts(plan, TZ, datetime(2027, 6, 1, tzinfo=TZ), END_OF_TEST)
    assert [p.occurrence for p in posts][-1] == datetime(2027, 6, 29, 10, 0, tzinfo=TZ)
    assert all(p.occurrence is not None and p.occurrence.date() <= date(2027, 6, 30)
               for p in posts)


def test_nothing_to_wake_for_after_the_last_post(plan: Plan) -> None:
    after_last_summary = datetime(2027, 6, 29, 9, 1, tzinfo=TZ)
    vn_first = datetime(2027, 12, 3, 8, 0, tzinfo=TZ)  # the Verwendungsnachweis, 28 days before
    assert next_post_time(plan, [], TZ, after_last_summary) == vn_first
    assert next_post_time(plan, [mark("M3.4", date(2027, 6, 1))], TZ, AFTER) == vn_first
    assert next_post_time(plan, [], TZ, datetime(2027, 12, 24, 8, 1, tzinfo=TZ)) is None
    # after a long outage that ends after the programme: nothing is sent late
    decisions = due_posts(plan, [], TZ, AFTER, set(), AFTER - timedelta(days=400), AFTER)
    assert decisions and all(d.action == "skip" for d in decisions)
