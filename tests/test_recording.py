"""Recording progress reports in a real store: new messages, edits, undo, duplicates (issue 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import TEST_PLAN
from workflows.plan import Plan, load_plan
from workflows.progress import Author, Update, ap_progress, reached_milestones
from workflows.recording import (
    Report,
    last_message_of,
    message_authors,
    record,
    record_edit,
    settle,
    withdraw_message,
)
from workflows.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=BERLIN)
AT = datetime(2026, 11, 26, 14, 30, tzinfo=BERLIN)  # when the messages were written
# "Die BiKo hat stattgefunden" written near the first BiKo's due day: the earliest open one
# is the one due nearest, so nothing needs asking.
BIKO_AT = datetime(2025, 12, 10, 11, 0, tzinfo=BERLIN)
CHAT = "-1001234567890"
OTHER_CHAT = "-1009876543210"
ANNA = Author("101", "Anna Schulze")
BERND = Author("202", "Bernd Müller")
BIKO_TITLE = "BiKo hat stattgefunden"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(TEST_PLAN)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path, NOW)
    yield s
    s.close()


def report(text: str, message_id: int | None = 1, *, author: Author = ANNA, chat: str = CHAT,
           at: datetime = AT, forwarded_from: str | None = None) -> Report:
    """A message as the engine gets it; the tests number messages, the engine keeps text."""
    return Report(text, author, chat, None if message_id is None else str(message_id), at,
                  forwarded_from)


# -- recording a new message ------------------------------------------------------


def test_record_stores_everything_about_the_message(store: Store, plan: Plan) -> None:
    text = "AP3: Einladungen verschickt, läuft – 60 %"
    outcome = record(store, plan, report(text, 42, forwarded_from="Carla"), NOW)
    assert outcome.kind == "recorded"
    assert len(outcome.updates) == 1
    [stored] = store.updates()
    assert stored == outcome.updates[0]
    assert stored.id is not None
    assert (stored.ap, stored.text, stored.author, stored.chat_id, stored.message_id) == (
        "AP3", text, ANNA, CHAT, "42")
    assert stored.at == AT
    assert (stored.state, stored.percent) == ("läuft", 60)
    assert stored.forwarded_from == "Carla"
    assert stored.withdrawn is False
    assert store.marks() == []


def test_very_long_text_is_stored_whole(store: Store, plan: Plan) -> None:
    text = "AP 8: Pressearbeit läuft. " + "Lorem ipsum dolor sit amet, äöüß. " * 300
    text = text[:10_000]
    assert len(text) == 10_000
    record(store, plan, report(text), NOW)
    [stored] = store.updates()
    assert stored.text == text
    assert stored.state == "läuft"


def test_html_characters_are_stored_verbatim(store: Store, plan: Plan) -> None:
    text = "<b>AP3</b> & Co läuft – \"Zitat\" 'einfach' &amp; <script>x</script>\n2. Zeile"
    record(store, plan, report(text), NOW)
    assert [u.text for u in store.updates()] == [text]


def test_multi_ap_message_gives_one_record_per_ap(store: Store, plan: Plan) -> None:
    text = "AP3 läuft, AP8 blockiert, AP 9 zu 30 Prozent"
    outcome = record(store, plan, report(text, 7), NOW)
    assert outcome.kind == "recorded"
    got = {u.ap: (u.state, u.percent) for u in store.updates()}
    assert got == {"AP3": ("läuft", None), "AP8": ("blockiert", None), "AP9": (None, 30)}
    assert len(store.updates()) == 3
    assert {u.message_id for u in store.updates()} == {"7"}
    assert {u.text for u in store.updates()} == {text}
    assert len({u.id for u in store.updates()}) == 3


def test_message_without_ap_or_milestone_is_not_recorded(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("Guten Morgen zusammen! ☕"), NOW)
    assert outcome.kind == "nothing"
    assert store.updates() == [] and store.marks() == []


def test_question_is_not_recorded(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("Ist AP3 schon fertig?"), NOW)
    assert outcome.kind == "nothing"
    assert store.updates() == []


@pytest.mark.parametrize("text", ["AP 14: läuft", "AP 3 und AP 14 laufen"])
def test_unknown_ap_is_refused_and_nothing_stored(store: Store, plan: Plan, text: str) -> None:
    outcome = record(store, plan, report(text), NOW)
    assert outcome.kind == "refused"
    assert outcome.unknown_aps == (14,)
    assert outcome.updates == () and outcome.marks == ()
    assert store.updates() == [] and store.marks() == []


# -- milestones ----------------------------------------------------------------------


def test_milestone_is_marked_and_its_ap_updated(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("Leitbild beschlossen 🎉", 5), NOW)
    assert outcome.kind == "recorded"
    [mark] = store.marks()
    assert (mark.milestone, mark.reached_on, mark.author, mark.chat_id, mark.message_id) == (
        "M2.1", AT.date(), ANNA, CHAT, "5")
    assert mark.at == AT
    assert outcome.marks == (mark,)
    [update] = store.updates()
    assert update.ap == "AP2"
    assert update.message_id == "5"
    assert reached_milestones(store.marks()) == {"M2.1": AT.date()}


def test_milestone_with_written_date(store: Store, plan: Plan) -> None:
    record(store, plan, report("Die BiKo hat am 12.06.2026 stattgefunden"), NOW)
    [mark] = store.marks()
    # the open BiKo due nearest to the date (30.06.2026), not the earliest open one
    assert (mark.milestone, mark.reached_on) == ("M3.2", date(2026, 6, 12))


def test_milestone_yesterday(store: Store, plan: Plan) -> None:
    record(store, plan, report("BiKo hat gestern stattgefunden"), NOW)
    [mark] = store.marks()
    assert mark.reached_on == date(2026, 11, 25)


def test_named_ap_and_milestone_give_one_update(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP 13: Bericht Fachkräfte ist fertig"), NOW)
    assert [m.milestone for m in store.marks()] == ["M13.1"]
    assert [u.ap for u in store.updates()] == ["AP13"]


def test_four_bikos_in_turn_then_all_reached(store: Store, plan: Plan) -> None:
    for n, expected in enumerate(["M3.1", "M3.2", "M3.3", "M3.4"], start=1):
        due = plan.milestone(expected).due  # type: ignore[union-attr]
        at = datetime.combine(min(due, AT.date()) - timedelta(days=5), time(11), BERLIN)
        outcome = record(store, plan, report("Die BiKo hat stattgefunden", n, at=at), NOW)
        assert outcome.kind == "recorded"
        assert [m.milestone for m in outcome.marks] == [expected]
        assert [u.ap for u in outcome.updates] == ["AP3"]
    fifth = record(store, plan, report("Die BiKo hat stattgefunden", 5, at=BIKO_AT), NOW)
    assert fifth.all_reached == ("M3.4",)
    assert fifth.kind == "nothing"
    assert fifth.marks == ()
    assert [m.milestone for m in store.marks()] == ["M3.1", "M3.2", "M3.3", "M3.4"]
    assert len(store.updates()) == 4


def test_withdrawn_biko_is_open_again(store: Store, plan: Plan) -> None:
    record(store, plan, report("Die BiKo hat stattgefunden", 1, at=BIKO_AT), NOW)
    withdraw_message(store, CHAT, "1", NOW)
    outcome = record(store, plan, report("Die BiKo hat stattgefunden", 2, at=BIKO_AT), NOW)
    assert [m.milestone for m in outcome.marks] == ["M3.1"]


def test_future_date_is_refused_and_nothing_stored(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("AP3: Die BiKo hat am 12.12.2026 stattgefunden"), NOW)
    assert outcome.kind == "refused"
    assert outcome.future_date == date(2026, 12, 12)
    assert outcome.updates == () and outcome.marks == ()
    assert store.updates() == [] and store.marks() == []


def test_date_later_today_is_not_future(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("Leitbild am 26.11.2026 beschlossen"), NOW)
    assert outcome.kind == "recorded"
    assert store.marks()[0].reached_on == date(2026, 11, 26)


# -- duplicates ----------------------------------------------------------------


def test_duplicate_message_is_not_recorded_again(store: Store, plan: Plan) -> None:
    first = record(store, plan, report("AP3 läuft", 9), NOW)
    again = record(store, plan, report("AP3 läuft", 9), NOW)
    assert first.kind == "recorded"
    assert again.kind == "duplicate"
    assert len(store.updates()) == 1


def test_duplicate_milestone_message_is_not_marked_again(store: Store, plan: Plan) -> None:
    record(store, plan, report("Die BiKo hat stattgefunden", 9, at=BIKO_AT), NOW)
    again = record(store, plan, report("Die BiKo hat stattgefunden", 9, at=BIKO_AT), NOW)
    assert again.kind == "duplicate"
    assert [m.milestone for m in store.marks()] == ["M3.1"]


def test_same_message_id_in_another_chat_is_another_message(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft", 9), NOW)
    outcome = record(store, plan, report("AP3 läuft", 9, chat=OTHER_CHAT), NOW)
    assert outcome.kind == "recorded"
    assert len(store.updates()) == 2


# -- edits ---------------------------------------------------------------------


def test_edit_changes_records_in_place(store: Store, plan: Plan) -> None:
    first = record(store, plan, report("AP3 läuft, AP 8 zu 20 %", 11), NOW)
    ids = sorted(u.id for u in first.updates)
    later = NOW + timedelta(minutes=5)
    outcome = record_edit(store, plan, report("AP3 blockiert, AP 8 zu 40 %", 11), later)
    assert outcome.kind == "changed"
    assert sorted(u.id for u in store.updates()) == ids
    assert len(store.updates()) == 2
    got = {u.ap: (u.state, u.percent, u.text) for u in store.updates()}
    assert got == {"AP3": ("blockiert", None, "AP3 blockiert, AP 8 zu 40 %"),
                   "AP8": (None, 40, "AP3 blockiert, AP 8 zu 40 %")}
    assert all(u.at == AT for u in store.updates())  # the time it was written stays


def test_edit_that_adds_an_ap_adds_one_record(store: Store, plan: Plan) -> None:
    first = record(store, plan, report("AP3 läuft", 12), NOW)
    outcome = record_edit(store, plan, report("AP3 läuft, AP 9 fertig", 12), NOW)
    assert outcome.kind == "changed"
    updates = store.updates()
    assert len(updates) == 2
    assert updates[0].id == first.updates[0].id
    assert {u.ap: u.state for u in updates} == {"AP3": "läuft", "AP9": "abgeschlossen"}


def test_edit_that_drops_one_ap_withdraws_only_that(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft, AP 9 fertig", 13), NOW)
    outcome = record_edit(store, plan, report("AP3 läuft", 13), NOW)
    assert outcome.kind == "changed"
    assert [u.ap for u in outcome.updates] == ["AP3"]
    assert {u.ap: u.withdrawn for u in store.updates()} == {"AP3": False, "AP9": True}


def test_edit_that_names_no_ap_withdraws(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft, AP 8 blockiert", 14), NOW)
    outcome = record_edit(store, plan, report("Sorry, falscher Chat", 14), NOW)
    assert outcome.kind == "withdrawn"
    assert outcome.updates == ()
    updates = store.updates()
    assert len(updates) == 2
    assert all(u.withdrawn for u in updates)
    assert ap_progress(store.updates("AP3")).state is None


def test_edit_back_revives_the_records(store: Store, plan: Plan) -> None:
    first = record(store, plan, report("AP3 läuft", 15), NOW)
    record_edit(store, plan, report("Hallo", 15), NOW)
    outcome = record_edit(store, plan, report("AP3 blockiert", 15), NOW)
    assert outcome.kind == "changed"
    [u] = store.updates()
    assert (u.id, u.state, u.withdrawn) == (first.updates[0].id, "blockiert", False)


def test_edit_of_never_recorded_message_records_it_once(store: Store, plan: Plan) -> None:
    assert record(store, plan, report("Guten Morgen", 16), NOW).kind == "nothing"
    outcome = record_edit(store, plan, report("Guten Morgen, AP 5 läuft", 16), NOW)
    assert outcome.kind == "recorded"
    again = record_edit(store, plan, report("Guten Morgen, AP 5 läuft!", 16), NOW)
    assert again.kind == "changed"
    [u] = store.updates()
    assert (u.ap, u.state, u.text) == ("AP5", "läuft", "Guten Morgen, AP 5 läuft!")


def test_edit_into_a_future_date_is_refused_and_keeps_records(store: Store, plan: Plan) -> None:
    record(store, plan, report("Die BiKo hat stattgefunden", 17, at=BIKO_AT), NOW)
    before = (store.updates(), store.marks())
    outcome = record_edit(store, plan, report("Die BiKo hat am 12.12.2026 stattgefunden", 17),
                          NOW)
    assert outcome.kind == "refused"
    assert outcome.future_date == date(2026, 12, 12)
    assert (store.updates(), store.marks()) == before


def test_edit_into_an_unknown_ap_is_refused_and_keeps_records(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft", 18), NOW)
    before = store.updates()
    outcome = record_edit(store, plan, report("AP 14 läuft", 18), NOW)
    assert outcome.kind == "refused"
    assert outcome.unknown_aps == (14,)
    assert store.updates() == before


def test_edit_of_milestone_date_keeps_the_same_milestone(store: Store, plan: Plan) -> None:
    record(store, plan, report("Die BiKo hat stattgefunden", 1, at=BIKO_AT), NOW)
    record(store, plan, report("Die BiKo hat stattgefunden", 2, at=BIKO_AT), NOW)
    outcome = record_edit(store, plan, report("Die BiKo hat am 12.06.2026 stattgefunden", 1),
                          NOW)
    assert outcome.kind == "changed"
    marks = store.marks()
    assert [(m.message_id, m.milestone) for m in marks] == [("1", "M3.1"), ("2", "M3.2")]
    assert marks[0].reached_on == date(2026, 6, 12)
    assert len(store.updates()) == 2


def test_edit_that_drops_the_milestone_withdraws_the_mark(store: Store, plan: Plan) -> None:
    record(store, plan, report("Leitbild beschlossen", 3), NOW)
    outcome = record_edit(store, plan, report("Leitbild wird im Januar beschlossen?", 3), NOW)
    assert outcome.kind == "withdrawn"
    [mark] = store.marks()
    assert mark.withdrawn
    assert reached_milestones(store.marks()) == {}


# -- undo -------------------------------------------------------------------------


def test_withdraw_keeps_records_and_progress_ignores_them(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft, 20 %", 1, at=AT - timedelta(days=2)), NOW)
    record(store, plan, report("AP3 blockiert, 40 %", 2, at=AT - timedelta(days=1)), NOW)
    record(store, plan, report("Die BiKo hat stattgefunden", 3, at=BIKO_AT), NOW)
    assert ap_progress(store.updates("AP3")).state == "blockiert"

    updates, marks = withdraw_message(store, CHAT, "2", NOW)
    assert [u.message_id for u in updates] == ["2"]
    assert marks == ()
    assert len(store.updates()) == 3
    assert [u.withdrawn for u in store.updates()] == [False, True, False]
    progress = ap_progress(store.updates("AP3"))
    assert (progress.state, progress.percent) == ("läuft", 20)
    assert all(u.message_id != 2 for u in progress.recent)

    updates, marks = withdraw_message(store, CHAT, "3", NOW)
    assert [m.milestone for m in marks] == ["M3.1"]
    assert len(store.marks()) == 1 and store.marks()[0].withdrawn
    assert reached_milestones(store.marks()) == {}


def test_withdraw_twice_withdraws_nothing_more(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft", 1), NOW)
    assert len(withdraw_message(store, CHAT, "1", NOW)[0]) == 1
    assert withdraw_message(store, CHAT, "1", NOW) == ((), ())
    assert len(store.updates()) == 1


def test_withdrawn_message_is_still_a_duplicate(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft", 1), NOW)
    withdraw_message(store, CHAT, "1", NOW)
    assert record(store, plan, report("AP3 läuft", 1), NOW).kind == "duplicate"
    assert len(store.updates()) == 1


def test_last_message_of_finds_the_newest_live_message(store: Store, plan: Plan) -> None:
    assert last_message_of(store, ANNA.id, CHAT) is None
    record(store, plan, report("AP3 läuft", 1, at=AT - timedelta(hours=3)), NOW)
    record(store, plan, report("AP4 läuft", 2, at=AT - timedelta(hours=2)), NOW)
    record(store, plan, report("AP5 läuft", 3, author=BERND, at=AT - timedelta(hours=1)), NOW)
    record(store, plan, report("AP6 läuft", 4, chat=OTHER_CHAT), NOW)
    record(store, plan, report("Leitbild beschlossen", 5, at=AT - timedelta(minutes=90)), NOW)
    assert last_message_of(store, ANNA.id, CHAT) == "5"
    assert last_message_of(store, BERND.id, CHAT) == "3"
    assert last_message_of(store, ANNA.id, OTHER_CHAT) == "4"
    assert last_message_of(store, BERND.id, OTHER_CHAT) is None
    withdraw_message(store, CHAT, "5", NOW)
    assert last_message_of(store, ANNA.id, CHAT) == "2"
    withdraw_message(store, CHAT, "2", NOW)
    assert last_message_of(store, ANNA.id, CHAT) == "1"


def test_message_authors(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP3 läuft", 1, author=BERND), NOW)
    assert message_authors(store, CHAT, "1") == {BERND.id}
    assert message_authors(store, CHAT, "2") == set()


# -- /update: the AP given by the command ---------------------------------------------


def test_forced_ap_records_even_if_text_names_no_ap(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("Einladungen verschickt, 60 %, läuft", 30), NOW,
                     forced_ap="AP3")
    assert outcome.kind == "recorded"
    [u] = store.updates()
    assert (u.ap, u.state, u.percent, u.text) == (
        "AP3", "läuft", 60, "Einladungen verschickt, 60 %, läuft")


def test_forced_ap_is_not_recorded_twice_when_text_names_it(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP 3 blockiert", 31), NOW, forced_ap="AP3")
    assert [(u.ap, u.state) for u in store.updates()] == [("AP3", "blockiert")]


def test_forced_ap_with_another_ap_in_the_text(store: Store, plan: Plan) -> None:
    record(store, plan, report("erledigt, AP 8 ebenfalls erledigt", 32), NOW, forced_ap="AP3")
    assert sorted(u.ap for u in store.updates()) == ["AP3", "AP8"]


def test_forced_ap_with_another_ap_in_passing(store: Store, plan: Plan) -> None:
    record(store, plan, report("zusammen mit AP 8 erledigt", 33), NOW, forced_ap="AP3")
    assert [(u.ap, u.state) for u in store.updates()] == [("AP3", None)]


# -- volume and persistence ---------------------------------------------------------


def test_two_hundred_messages_give_two_hundred_records(store: Store, plan: Plan) -> None:
    for n in range(200):
        ap_number = n % 13 + 1
        text = f"AP {ap_number}: Stand {n}, {n % 101} %"
        at = AT - timedelta(minutes=200 - n)
        assert record(store, plan, report(text, 1000 + n, at=at), NOW).kind == "recorded"
    updates = store.updates()
    assert len(updates) == 200
    assert len({u.id for u in updates}) == 200
    assert sorted(u.message_id for u in updates) == [str(n) for n in range(1000, 1200)]
    assert ap_progress(store.updates("AP1")).percent == 195 % 101


def test_everything_survives_close_and_reopen(tmp_path: Path, plan: Plan) -> None:
    store = Store.open(tmp_path, NOW)
    long_text = "AP 8 läuft & <b>fett</b> " + "x" * 10_000
    record(store, plan, report("AP3 läuft, AP 8 zu 20 %", 1), NOW)
    record(store, plan, report("Die BiKo hat am 12.06.2026 stattgefunden", 2), NOW)
    record(store, plan, report(long_text, 3, author=BERND, forwarded_from="Carla"), NOW)
    record_edit(store, plan, report("AP3 blockiert, AP 8 zu 40 %", 1), NOW)
    withdraw_message(store, CHAT, "3", NOW)
    updates, marks = store.updates(), store.marks()
    store.close()

    reopened = Store.open(tmp_path, NOW + timedelta(days=1))
    try:
        assert reopened.updates() == updates
        assert reopened.marks() == marks
        assert [u.text for u in reopened.updates() if u.message_id == "3"] == [long_text]
        assert reopened.updates()[-1].at == AT
        assert reached_milestones(reopened.marks()) == {"M3.2": date(2026, 6, 12)}
        assert ap_progress(reopened.updates("AP8")).percent == 40
        assert last_message_of(reopened, ANNA.id, CHAT) in {"1", "2"}
        # it keeps working after reopening
        assert record(reopened, plan, report("AP3 läuft", 1), NOW).kind == "duplicate"
        nxt = record(reopened, plan, report("Die BiKo hat stattgefunden", 4, at=BIKO_AT), NOW)
        assert [m.milestone for m in nxt.marks] == ["M3.1"]  # the earliest one still open
    finally:
        reopened.close()


# -- issue 14: dated reports, bad percentages, unsure messages ----------------------------


def test_report_about_a_past_day_is_dated_that_day(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("AP3: am 10.09.2026 Einladungen verschickt"), NOW)
    [stored] = store.updates()
    assert stored.at == AT.replace(year=2026, month=9, day=10)  # same time of day
    assert outcome.updates == (stored,)


def test_bad_percent_is_recorded_without_it(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("AP3 150%"), NOW)
    assert outcome.kind == "recorded"
    assert outcome.bad_percent == "150 %"
    assert [(u.ap, u.percent) for u in store.updates()] == [("AP3", None)]


def test_unsure_message_stores_nothing_and_says_what_it_would(store: Store,
                                                              plan: Plan) -> None:
    outcome = record(store, plan, report("AP 9 Vortrag beim Landesnetzwerk gehalten", 7), NOW)
    assert outcome.kind == "unsure"
    assert outcome.question == "Als Meldung zu AP 9 speichern?"
    assert [(u.ap, u.id, u.message_id) for u in outcome.updates] == [("AP9", None, "7")]
    assert store.updates() == [] and store.marks() == []


def test_unclear_biko_offers_the_choices(store: Store, plan: Plan) -> None:
    outcome = record(store, plan, report("BiKo 2026 hat stattgefunden"), NOW)
    assert (outcome.kind, outcome.choices) == ("unsure", ("M3.2", "M3.3"))
    assert store.marks() == []


def test_edit_into_an_unsure_message_keeps_the_records(store: Store, plan: Plan) -> None:
    record(store, plan, report("AP 9 läuft", 8), NOW)
    outcome = record_edit(store, plan, report("AP 9 Vortrag gehalten", 8), NOW)
    assert outcome.kind == "unsure"
    assert [(u.ap, u.state, u.withdrawn) for u in store.updates()] == [("AP9", "läuft", False)]


def test_an_unsure_message_is_answered_with_how_to_make_it_count() -> None:
    from bot.reports import unsure_text
    from workflows.recording import Outcome

    ap9 = unsure_text(Outcome("unsure", question="Als Meldung zu AP 9 speichern?",
                              updates=(Update("AP9", "x", Author("1", "A"), "1", "1", NOW),)))
    assert ap9 == ("Als Meldung zu AP 9 speichern? Wenn ja: bitte noch einmal als Meldung "
                   "schreiben, so: „AP9: …“. Ich habe nichts gespeichert.")
    biko = unsure_text(Outcome("unsure", question="Welcher Meilenstein ist erreicht: M3.2 oder "
                               "M3.3?", choices=("M3.2", "M3.3")))
    assert "„Meilenstein M3.2 erreicht“" in biko and biko.endswith("nichts gespeichert.")


# -- answering the question (Speichern / Nein / which milestone) ---------------------------


def test_speichern_stores_what_the_question_was_about_dated_as_the_message(
        tmp_path: Path, plan: Plan) -> None:
    store = Store.open(tmp_path, NOW)
    asked = record(store, plan, report("AP 9 am 10.11.2026 Vortrag gehalten", 7), NOW)
    assert asked.pending is not None and asked.pending.id is not None
    store.close()
    # the question survives a restart: its buttons still work
    store = Store.open(tmp_path, NOW + timedelta(hours=5))
    try:
        pending = store.pending(asked.pending.id)
        assert pending is not None and pending.answer is None
        outcome = settle(store, plan, pending, "save", "Anna Schulze", NOW + timedelta(hours=5))
        assert outcome.kind == "recorded"
        [stored] = store.updates()
        assert (stored.ap, stored.message_id, stored.author) == ("AP9", "7", ANNA)
        assert stored.at == AT.replace(day=10)  # the day the message was about
        assert outcome.updates == (stored,)
        answered = store.pending(asked.pending.id)
        assert answered is not None
        assert (answered.answer, answered.answered_by) == ("saved", "Anna Schulze")
        # answered once only; the message handled again is a duplicate, not a new question
        assert settle(store, plan, answered, "save", "Anna", NOW).kind == "answered"
        again = record(store, plan, report("AP 9 am 10.11.2026 Vortrag gehalten", 7), NOW)
        assert again.kind == "duplicate"
        assert len(store.updates()) == 1
    finally:
        store.close()


def test_nein_stores_nothing_and_the_message_is_not_asked_about_again(
        store: Store, plan: Plan) -> None:
    asked = record(store, plan, report("AP 9 Vortrag gehalten", 7), NOW)
    assert asked.pending is not None
    assert settle(store, plan, asked.pending, None, "Anna", NOW).kind == "nothing"
    assert store.updates() == [] and store.marks() == []
    again = record(store, plan, report("AP 9 Vortrag gehalten", 7), NOW)  # after a restart
    assert (again.kind, again.pending) == ("nothing", None)
    # an edit that asks something else asks anew, under the same question
    edited = record_edit(store, plan, report("AP 10 Flyer gedruckt", 7), NOW)
    assert edited.kind == "unsure" and edited.pending is not None
    assert edited.pending.id == asked.pending.id and edited.pending.answer is None


def test_the_same_message_handled_twice_keeps_one_question(store: Store, plan: Plan) -> None:
    first = record(store, plan, report("AP 9 Vortrag gehalten", 7), NOW)
    second = record(store, plan, report("AP 9 Vortrag gehalten", 7), NOW)
    assert first.pending is not None and second.pending == first.pending


def test_choosing_a_milestone_marks_that_one_on_the_written_day(store: Store,
                                                                plan: Plan) -> None:
    record(store, plan, report("Die erste BiKo hat stattgefunden", 1, at=BIKO_AT), NOW)
    asked = record(store, plan, report("Die BiKo hat am 30.09.2026 stattgefunden", 2), NOW)
    assert asked.pending is not None and asked.pending.choices == ("M3.2", "M3.3")
    assert store.marks_of_message(CHAT, 2) == []
    outcome = settle(store, plan, asked.pending, "M3.3", "Anna", NOW)
    assert [(m.milestone, m.reached_on) for m in outcome.marks] == [("M3.3", date(2026, 9, 30))]
    assert [u.ap for u in outcome.updates] == ["AP3"]
    assert reached_milestones(store.marks()) == {"M3.1": date(2025, 12, 10),
                                                 "M3.3": date(2026, 9, 30)}


def test_a_message_recorded_meanwhile_is_not_stored_again(store: Store, plan: Plan) -> None:
    asked = record(store, plan, report("AP 9 Vortrag gehalten", 7), NOW)
    record_edit(store, plan, report("AP 9: Vortrag gehalten, läuft", 7), NOW)
    assert asked.pending is not None
    assert settle(store, plan, asked.pending, "save", "Anna", NOW).kind == "duplicate"
    assert len(store.updates()) == 1
