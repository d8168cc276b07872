"""The plan changed in the chat: preview, take, drop, undo, history, who may (issue 13)."""

from __future__ import annotations

import itertools
import shutil
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.commands import COMMANDS
from bot.core import Core
from bot.messages import ButtonPress, Context, Incoming, Reply
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.office_files import docx_lines
from workflows.plan import load_plan
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TEAM, ADMIN, BEA, MEMBER = "-100123", "1", "2", "3"
_ids = itertools.count(500)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    shutil.copyfile(TEST_PLAN, d / "plan.toml")  # the team's plan, in the data directory
    return d


@pytest.fixture
def store(data: Path) -> Iterator[Store]:
    s = Store.open(data, NOW)
    yield s
    s.close()


@pytest.fixture
def core(data: Path, store: Store) -> Core:
    settings = Settings(team_chat_id=TEAM, admin_ids=frozenset({ADMIN, BEA}), timezone=TZ,
                        data_dir=data, plan_path=data / "plan.toml")
    return Core(Context(settings, load_plan(data / "plan.toml"), store), COMMANDS)


def say(core: Core, text: str, user: str = BEA, name: str = "Bea") -> list[Reply]:
    msg = Incoming(text=text, chat_id=TEAM, user_id=user, user_name=name,
                   chat_type="supergroup", message_id=str(next(_ids)), date=NOW)
    return core.handle(msg, NOW)


def press(core: Core, data: str, user: str = BEA, name: str = "Bea"):  # type: ignore[no-untyped-def]
    return core.press(ButtonPress(data, TEAM, user, name), NOW)


def take(core: Core, text: str) -> Reply:
    """Ask for a change and press Übernehmen; returns the announcement."""
    [preview] = say(core, text)
    ok = next(b.data for b in preview.buttons if b.label == "Übernehmen")
    result = press(core, ok)
    assert result.notice == "Übernommen.", result
    [(chat, announcement)] = result.posts
    assert chat == TEAM
    return announcement


def file_entry(data: Path, table: str, entry_id: str) -> dict[str, object]:
    document = tomllib.loads((data / "plan.toml").read_text(encoding="utf-8"))
    return next(e for e in document[table] if e["id"] == entry_id)


def test_a_due_date_is_previewed_and_changes_nothing_before_it_is_taken(
        core: Core, data: Path) -> None:
    before = (data / "plan.toml").read_text(encoding="utf-8")
    [preview] = say(core, "/faellig M3.2 15.05.2026")
    assert "M3.2" in preview.text and "15.05.2026 statt 30.06.2026" in preview.text
    assert [b.label for b in preview.buttons] == ["Übernehmen", "Verwerfen"]
    assert (data / "plan.toml").read_text(encoding="utf-8") == before
    assert core.ctx.plan.milestone("M3.2").due.isoformat() == "2026-06-30"  # type: ignore


def test_taken_it_holds_at_once_in_the_file_and_in_status(core: Core, data: Path) -> None:
    announcement = take(core, "/faellig M3.2 15.05.2026")
    assert announcement.text.startswith("🗓️ Plan geändert von Bea: M3.2")
    assert [b.label for b in announcement.buttons] == ["Rückgängig"]
    assert core.ctx.plan.milestone("M3.2").due.isoformat() == "2026-05-15"  # type: ignore
    assert file_entry(data, "milestone", "M3.2")["due"] == "2026-05-15"
    [status] = say(core, "/status AP3")
    assert "15.05.2026" in status.text
    # The file keeps its comments; the version before is kept.
    assert "# Arbeits- und Zeitplan" in (data / "plan.toml").read_text(encoding="utf-8")
    assert len(list((data / "plan-versions").glob("plan-*.toml"))) == 1


def test_a_quarter_stays_a_quarter(core: Core, data: Path) -> None:
    take(core, "/faellig M3.2 Q3 2026")
    assert file_entry(data, "milestone", "M3.2")["due"] == "Q3 2026"
    assert core.ctx.plan.milestone("M3.2").due.isoformat() == "2026-09-30"  # type: ignore


def test_undo_restores_the_plan_before(core: Core, data: Path) -> None:
    before = (data / "plan.toml").read_text(encoding="utf-8")
    announcement = take(core, "/faellig M3.2 15.05.2026")
    undo = press(core, announcement.buttons[0].data, user=ADMIN, name="Chef")
    assert undo.notice == "Zurückgenommen."
    assert (data / "plan.toml").read_text(encoding="utf-8") == before
    assert core.ctx.plan.milestone("M3.2").due.isoformat() == "2026-06-30"  # type: ignore
    assert press(core, announcement.buttons[0].data).notice.startswith("Diese Änderung ist")
    [history] = say(core, "/planaenderungen")
    assert "(zurückgenommen)" in history.text and "Rückgängig: M3.2" in history.text


def test_dropped_it_changes_nothing(core: Core, data: Path) -> None:
    before = (data / "plan.toml").read_text(encoding="utf-8")
    [preview] = say(core, "/zeitraum AP3 Q2 2025 bis Q2 2027")
    drop = next(b.data for b in preview.buttons if b.label == "Verwerfen")
    assert press(core, drop).notice == "Verworfen."
    assert (data / "plan.toml").read_text(encoding="utf-8") == before
    assert press(core, drop).notice == "Diese Vorschau ist schon erledigt."


def test_only_the_admin_who_asked_may_take_it(core: Core) -> None:
    [preview] = say(core, "/faellig M3.2 15.05.2026")
    other = press(core, preview.buttons[0].data, user=ADMIN, name="Chef")
    assert other.plan is None and "nur Bea" in other.notice


def test_members_are_told_who_may_and_nothing_changes(core: Core, data: Path) -> None:
    before = (data / "plan.toml").read_text(encoding="utf-8")
    [answer] = say(core, "/faellig M3.2 15.05.2026", user=MEMBER, name="Max")
    assert answer.text.startswith("Den Plan ändern nur die Admins")
    assert not answer.buttons
    assert (data / "plan.toml").read_text(encoding="utf-8") == before


@pytest.mark.parametrize(("text", "says"), [
    ("/faellig M9.9 15.05.2026", "Den Meilenstein „M9.9“ gibt es nicht"),
    ("/faellig M3.2 31.02.2026", "31.02.2026"),
    ("/faellig M3.2 15.05.2029", "außerhalb des Programms"),
    ("/faellig M13.1 15.05.2025", "AP 13 beginnt erst Q1 2026"),
    ("/faellig M3.2", "So geht es: /faellig M3.2 15.05.2026"),
    ("/zeitraum AP14 Q1 2025 bis Q2 2027", "AP 14 gibt es nicht"),
    ("/zeitraum AP3 Q4 2026 bis Q1 2025", "vor dem Anfang"),
    ("/zeitraum AP2 Q1 2025 bis Q4 2025", "M2.1 wäre am 31.03.2026 fällig, aber AP 2 endet"),
    ("/meilenstein AP4 Portal online", "So geht es: /meilenstein AP4"),
    ("/bestaetigen", "So geht es: /bestaetigen AP3"),
])
def test_bad_input_gets_one_sentence_and_changes_nothing(core: Core, data: Path, text: str,
                                                         says: str) -> None:
    before = (data / "plan.toml").read_text(encoding="utf-8")
    [answer] = say(core, text)
    assert says in answer.text, answer.text
    assert not answer.buttons
    assert (data / "plan.toml").read_text(encoding="utf-8") == before


def test_span_lead_milestones_and_confirmation(core: Core, data: Path) -> None:
    take(core, "/zeitraum AP4 Q3 2025 bis Q1 2027")
    assert (str(core.ctx.plan.work_package("AP4").start),  # type: ignore[union-attr]
            str(core.ctx.plan.work_package("AP4").end)) == ("Q3 2025", "Q1 2027")  # type: ignore
    take(core, "/zustaendig AP4 Frau Müller")
    assert core.ctx.plan.work_package("AP4").lead == "Frau Müller"  # type: ignore[union-attr]
    take(core, "/meilenstein AP4 Portal online bis 31.03.2027")
    added = core.ctx.plan.milestone("M4.1")
    assert added is not None and (added.title, added.due.isoformat()) == (
        "Portal online", "2027-03-31")
    take(core, "/meilenstein_loeschen M4.1")
    assert core.ctx.plan.milestone("M4.1") is None
    take(core, "/bestaetigen alles")
    plan = core.ctx.plan
    assert not any(w.assumed for w in plan.work_packages)
    assert not any(m.assumed for m in plan.milestones)
    [status] = say(core, "/status AP3")
    assert "angenommen" not in status.text
    [history] = say(core, "/planaenderungen")
    assert history.text.count("\n• ") == 5


def test_a_restart_keeps_the_change(core: Core, data: Path) -> None:
    take(core, "/faellig M3.2 15.05.2026")
    assert load_plan(data / "plan.toml").milestone("M3.2").due.isoformat() == "2026-05-15"  # type: ignore


def test_the_shipped_plan_is_copied_into_the_data_directory_first(tmp_path: Path) -> None:
    from bot.settings import SHIPPED_PLAN

    data = tmp_path / "data"
    store = Store.open(data, NOW)
    try:
        settings = Settings(team_chat_id=TEAM, admin_ids=frozenset({BEA}), timezone=TZ,
                            data_dir=data)
        shipped = SHIPPED_PLAN.read_bytes()
        core = Core(Context(settings, load_plan(SHIPPED_PLAN), store), COMMANDS)
        take(core, "/bestaetigen M3.2")
        assert SHIPPED_PLAN.read_bytes() == shipped, "the shipped plan stays as it is"
        assert core.ctx.plan.source == data / "plan.toml"
        assert file_entry(data, "milestone", "M3.2")["assumed"] is False
    finally:
        store.close()


def test_meetings_from_plain_german(core: Core, data: Path) -> None:
    take(core, "/sitzung Bildungskonferenz am 18.03.2027 14:00 im Rathaus")
    biko = next(m for m in core.ctx.plan.meetings if m.title == "Bildungskonferenz")
    assert (biko.rrule, biko.dtstart.isoformat(), biko.place) == (
        "FREQ=DAILY;COUNT=1", "2027-03-18T14:00:00", "Rathaus")
    take(core, "/sitzung Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00")
    [sg] = [m for m in core.ctx.plan.meetings if m.id == "steuerungsgruppe"]  # changed, not added
    assert sg.rrule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE"
    [termine] = say(core, "/naechste 30")
    assert "18.03.2027" in termine.text
    take(core, "/sitzung_loeschen Jour fixe")
    assert [m.id for m in core.ctx.plan.meetings] == ["steuerungsgruppe", "bildungskonferenz"]
    [answer] = say(core, "/sitzung Jour fixe jeden Dienstag")
    assert "Uhrzeit" in answer.text or "Uhr" in answer.text, answer.text
    assert not answer.buttons


def test_a_lead_given_as_a_reply_to_the_persons_message(core: Core) -> None:
    msg = Incoming(text="/zustaendig AP4", chat_id=TEAM, user_id=BEA, user_name="Bea",
                   chat_type="supergroup", message_id=str(next(_ids)), date=NOW,
                   reply_to_user="Anna Schmidt", reply_to_user_id="77")
    [preview] = core.handle(msg, NOW)
    assert ("AP 4 zuständig: Anna Schmidt (im Chat verknüpft) (bisher: noch niemand)"
            in preview.text)
    press(core, preview.buttons[0].data)
    wp = core.ctx.plan.work_package("AP4")
    assert wp is not None and (wp.lead, wp.lead_member) == ("Anna Schmidt", "77")
    # The link is the member: Anna asks what she leads, in a private chat.
    asks = Incoming(text="Wofür bin ich zuständig?", chat_id="77", user_id="77",
                    user_name="Anna Schmidt", chat_type="private", team_member=True,
                    message_id=str(next(_ids)), date=NOW)
    [mine] = core.handle(asks, NOW)
    assert "AP 4 Bildungsportal" in mine.text and "AP 3" not in mine.text


def test_a_lead_given_by_at_name_is_linked_and_a_plain_name_unlinks(core: Core,
                                                                   data: Path) -> None:
    take(core, "/zustaendig AP4 @anna_s")
    assert file_entry(data, "work_package", "AP4")["lead_member"] == "@anna_s"
    asks = Incoming(text="Wofür bin ich zuständig?", chat_id="88", user_id="88",
                    user_name="Anna", user_handle="anna_s", chat_type="private",
                    team_member=True, message_id=str(next(_ids)), date=NOW)
    assert "AP 4" in core.handle(asks, NOW)[0].text
    take(core, "/zustaendig AP4 Frau Müller")
    assert "lead_member" not in file_entry(data, "work_package", "AP4")
    assert "keinem Arbeitspaket" in core.handle(asks, NOW)[0].text


def test_after_confirming_everything_nothing_is_called_assumed(core: Core) -> None:
    """Issue 13's "done": /plan, /status, the chart, the calendar and the report."""
    take(core, "/bestaetigen alles")
    texts = [r.text for cmd in ("/plan", "/status AP3", "/status AP13") for r in say(core, cmd)]
    for command in ("/kalender", "/bericht 2026", "/zeitplan"):
        [reply] = say(core, command)
        assert reply.attachment is not None
        if command == "/zeitplan":
            texts.append(reply.attachment.fallback_text)  # the chart's text twin
        elif command == "/bericht 2026":
            texts.append("\n".join(docx_lines(reply.attachment.data)))
        else:
            texts.append(reply.attachment.data.decode("utf-8"))
    assert all("angenommen" not in text for text in texts), [
        t[:200] for t in texts if "angenommen" in t]


@pytest.mark.parametrize("button", ["undo:²", "undo:--5", "undo:", "plan:ok:²", "plan:ok:-1",
                                  "plan:zap:1", "plan:", "plan:undo:99999", "gibtsnicht"])
def test_forged_button_data_gets_a_german_answer(core: Core, button: str) -> None:
    result = press(core, button, user=ADMIN, name="Chef")
    assert result.notice.startswith(("Diese Schaltfläche kenne ich nicht",
                                     "Diese Änderung gibt es nicht", "Diese Meldung gibt es"))
    assert result.plan is None
