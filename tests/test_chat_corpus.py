"""A corpus of German team-chat messages and what recording should make of them (issue 14).

Each message is written the way the coordination team writes in its group, and its
expectation the way a colleague reads it: nothing recorded, or the work packages it
reports on with (state, percent), the milestones it reports reached, and the day it is
about. Every message goes through `record` on a fresh store, as a team member's new
message on 26.11.2026. The corpus passes at 95 % exactly right, and fails on any
milestone marked that should not be: a wrong milestone is worse than a missed one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from workflows.plan import Plan
from workflows.progress import Author
from workflows.recording import Report, record
from workflows.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=BERLIN)
AT = datetime(2026, 11, 26, 14, 30, tzinfo=BERLIN)
TODAY = AT.date()
REQUIRED_SHARE = 0.95
_ = (None, None)  # an AP reported on, without state or percent


@dataclass(frozen=True)
class Msg:
    """One chat message and what a colleague reads in it."""

    text: str
    aps: Mapping[str, tuple[str | None, int | None]] = field(default_factory=dict)
    milestones: tuple[str, ...] = ()
    on: date = TODAY  # the day the records are about
    ask: bool = False  # unclear: the bot should ask, and store nothing yet

    @property
    def recorded(self) -> bool:
        return bool(self.aps or self.milestones)


def no(text: str) -> Msg:
    """A message that records nothing."""
    return Msg(text)


CORPUS: tuple[Msg, ...] = (
    # -- reports: progress on a running AP (a finished piece of work closes nothing) ----
    Msg("AP3: Einladungen für die BiKo sind raus", {"AP3": _}),
    Msg("AP 4 läuft, der Prototyp vom Portal steht", {"AP4": ("läuft", None)}),
    Msg("AP 10: Flyer fertig", {"AP10": _}),
    Msg("AP 8: Pressemitteilung erledigt", {"AP8": _}),
    Msg("AP 5: Protokoll ist fertig und verschickt", {"AP5": _}),
    Msg("AP 12: Modul 2 abgeschlossen, Modul 3 startet im Januar", {"AP12": _}),
    Msg("AP2: 1. Entwurf fertig", {"AP2": _}),
    Msg("AP 9: Vortrag beim Landesnetzwerk gehalten", {"AP9": _}),
    Msg("AP 6: Kooperationsvereinbarung mit der VHS unterschrieben ✍️", {"AP6": _}),
    Msg("AP 5: Steuerungsgruppe hat getagt, Protokoll folgt", {"AP5": _}),
    Msg("AP 12: Bildungsbericht Teil 1 veröffentlicht", {"AP12": _}),
    Msg("AP 9: Workshop in Dresden besucht, Ergebnisse im Ordner", {"AP9": _}),
    Msg("AP 8: Newsletter Nr. 4 ist raus", {"AP8": _}),
    Msg("AP 2: Entwurf des Leitbildes fertig", {"AP2": _}),
    Msg("AP 5: Bildungsbeirat gegründet 🎉", {"AP5": _}),
    Msg("AP 10: Erklärvideo Nr. 2 abgeschlossen", {"AP10": _}),
    Msg("AP 3: Protokoll der BiKo ist fertig", {"AP3": _}),
    Msg("AP 8: Homepage aktualisiert", {"AP8": _}),
    Msg("AP 6 + AP 7: Arbeitskreis Schule-Wirtschaft hat getagt", {"AP6": _, "AP7": _}),
    Msg("AP 3: 4. BiKo-Konzept steht", {"AP3": _}),
    Msg("AP 13: Kapitel 2 vom Bericht Fachkräfte fertig", {"AP13": _}),
    Msg("AP 2: Beschlussvorlage Leitbild eingereicht", {"AP2": _}),
    Msg("AP 7: Zielvereinbarung mit dem BNE-Kompetenzzentrum erledigt", {"AP7": _}),
    Msg("AP 11: Indikatorenset überarbeitet und an die AG geschickt", {"AP11": _}),
    Msg("AP 4: Konzept fertig, Umsetzung läuft", {"AP4": ("läuft", None)}),
    Msg("AP 4: Prototyp ist fertig, Test läuft", {"AP4": ("läuft", None)}),
    Msg("AP 7: BNE-Zielvereinbarung erledigt, AP 7 läuft weiter", {"AP7": ("läuft", None)}),
    # -- reports: state of the AP itself ------------------------------------------------
    Msg("AP 12 abgeschlossen", {"AP12": ("abgeschlossen", None)}),
    Msg("AP3 ist durch 🎉", {"AP3": ("abgeschlossen", None)}),
    Msg("Arbeitspaket 1 komplett fertig", {"AP1": ("abgeschlossen", None)}),
    Msg("AP 1 fertig.", {"AP1": ("abgeschlossen", None)}),
    Msg("AP 9 ist komplett abgeschlossen", {"AP9": ("abgeschlossen", None)}),
    Msg("AP 1 ist jetzt offiziell abgeschlossen", {"AP1": ("abgeschlossen", None)}),
    Msg("AP 2 ist abgeschlossen, das Leitbild ist beschlossen",
        {"AP2": ("abgeschlossen", None)}, ("M2.1",)),
    Msg("AP 13 läuft seit Januar planmäßig", {"AP13": ("läuft", None)}),
    Msg("AP 13 gestartet", {"AP13": ("läuft", None)}),
    Msg("AP 3: Nacharbeit der BiKo läuft", {"AP3": ("läuft", None)}),
    Msg("AP3 & AP4: beide laufen nach Plan", {"AP3": ("läuft", None), "AP4": ("läuft", None)}),
    Msg("Kurzes Update: AP 9 läuft, nächster Workshop im Januar", {"AP9": ("läuft", None)}),
    Msg("AP 11: Datenbasis um Kita-Daten erweitert, läuft", {"AP11": ("läuft", None)}),
    Msg("AP 12: Datenquellen aktualisiert, läuft", {"AP12": ("läuft", None)}),
    Msg("AP 4 und AP 8 laufen, AP 11 hängt",
        {"AP4": ("läuft", None), "AP8": ("läuft", None), "AP11": ("blockiert", None)}),
    Msg("AP 10 verzögert sich, der Dienstleister für die Erklärvideos ist insolvent",
        {"AP10": ("verzögert", None)}),
    Msg("AP 8 blockiert, wir warten auf die Freigabe der Pressestelle",
        {"AP8": ("blockiert", None)}),
    Msg("AP 5 ist in Verzug", {"AP5": ("verzögert", None)}),
    Msg("AP 7 ist gefährdet, die Stelle ist unbesetzt", {"AP7": ("verzögert", None)}),
    Msg("AP 6 zurückgestellt bis Februar", {"AP6": ("zurückgestellt", None)}),
    Msg("AP 11 pausiert, bis die neue Stelle besetzt ist", {"AP11": ("zurückgestellt", None)}),
    Msg("AP 11 hängt, die Daten vom Landesamt fehlen", {"AP11": ("blockiert", None)}),
    Msg("AP 7 hängt seit Wochen an der Freigabe", {"AP7": ("blockiert", None)}),
    Msg("AP 7 stockt, die Kammer meldet sich nicht", {"AP7": ("verzögert", None)}),
    Msg("AP 10 stockt etwas", {"AP10": ("verzögert", None)}),
    Msg("AP 6 wartet auf die Unterschrift der HWK", {"AP6": ("blockiert", None)}),
    Msg("AP 12 wartet noch auf die Daten vom Statistischen Landesamt",
        {"AP12": ("blockiert", None)}),
    # -- reports: percent ---------------------------------------------------------
    Msg("AP4 steht bei 70 %", {"AP4": (None, 70)}),
    Msg("AP 11 zu 40 Prozent umgesetzt", {"AP11": (None, 40)}),
    Msg("Update AP 4: Prototyp steht, 50 %", {"AP4": (None, 50)}),
    Msg("AP 12 zu 80 % fertig", {"AP12": (None, 80)}),
    Msg("Stand AP 6: 50 %, Vereinbarung mit VHS steht", {"AP6": (None, 50)}),
    Msg("AP 13: Indikatoren BNE zusammengestellt, 30 %", {"AP13": (None, 30)}),
    Msg("AP 4: 20 % → 45 %", {"AP4": (None, 45)}),
    Msg("AP3 150%", {"AP3": _}),
    Msg("AP3 -10%", {"AP3": _}),
    Msg("AP 4 1e9 %", {"AP4": _}),
    Msg("AP 12: -5 % Teilnehmende ggü. Vorjahr bei den VHS-Kursen", {"AP12": _}),
    # -- self-corrections -----------------------------------------------------------
    Msg("AP3 60 % – sorry, meinte AP4", {"AP4": (None, 60)}),
    Msg("AP 9 70 % – sorry, meinte AP 10", {"AP10": (None, 70)}),
    Msg("Korrektur: AP7 steht bei 35 %", {"AP7": (None, 35)}),
    Msg("Korrektur: AP 11 nicht 40 sondern 45 %", {"AP11": (None, 45)}),
    Msg("AP3 60 %, nein Quatsch, 70 %", {"AP3": (None, 70)}),
    Msg("AP 4: 40 % – Korrektur: 45 %", {"AP4": (None, 45)}),
    # -- reports about the past carry their day ------------------------------------------
    Msg("AP3: am 10.09.2026 Einladungen verschickt", {"AP3": _}, on=date(2026, 9, 10)),
    Msg("AP 10: gestern Elternabend zur Berufsorientierung durchgeführt", {"AP10": _},
        on=date(2026, 11, 25)),
    Msg("AP 2: am 3.3.2026 Beteiligungswerkstatt durchgeführt", {"AP2": _},
        on=date(2026, 3, 3)),
    Msg("AP 11: vorgestern Sitzung der AG Monitoring, läuft", {"AP11": ("läuft", None)},
        on=date(2026, 11, 24)),
    Msg("AP 6: am 3.11. Jour fixe mit der Stadtbibliothek, neue Kooperation vereinbart",
        {"AP6": _}, on=date(2026, 11, 3)),
    Msg("AP 10: Am 15. Oktober Berufsorientierungsmesse durchgeführt", {"AP10": _},
        on=date(2026, 10, 15)),
    # -- an AP named only by its title, as the heading --------------------------------
    Msg("Bildungsportal: Prototyp steht", {"AP4": _}),
    Msg("Netzwerkarbeit: Vortrag beim Landesnetzwerk gehalten", {"AP9": _}),
    Msg("Bildungsmonitoring – Indikatorenset überarbeitet", {"AP11": _}),
    Msg("Öffentlichkeitsarbeit: Newsletter verschickt, läuft", {"AP8": ("läuft", None)}),
    Msg("Bildungsportal: 60 % der Inhalte eingepflegt", {"AP4": (None, 60)}),
    Msg("Leitbildentwicklung: Beteiligungsphase verzögert sich", {"AP2": ("verzögert", None)}),
    Msg("Koordinierung und Steuerung: Protokoll verschickt", {"AP5": _}),
    Msg("Übergänge: Berufsorientierungsmesse durchgeführt", {"AP10": _}),
    Msg("Netzwerkarbeit: am 10.09.2026 Vortrag bei der IHK gehalten", {"AP9": _},
        on=date(2026, 9, 10)),
    no("Bildungsportal: wer hat das Passwort?"),
    no("Bildungsportal: Treffen am Dienstag um 10 Uhr"),
    no("Netzwerkarbeit: ich ruf morgen bei der IHK an"),
    no("Kooperationsstrukturen: Vereinbarung unterschrieben"),  # AP 6 or AP 7?
    no("Bildungsportal ist heute echt langsam"),
    no("Bildungsportal: soll im Januar online gehen"),
    no("Bildungsportal: bitte alle bis Freitag testen"),
    no("Bildungsportal: Passwort vergessen"),
    no("Öffentlichkeitsarbeit: der Flyer kommt morgen"),
    no("Liebe Kolleginnen: heute ist der Drucker kaputt"),
    # -- milestones reached ----------------------------------------------------------
    Msg("Meilenstein M3.2 erreicht", milestones=("M3.2",)),
    Msg("Meilenstein 2.1 erreicht", milestones=("M2.1",)),
    Msg("M13.1 erreicht: Bericht Fachkräfte vorgelegt", milestones=("M13.1",)),
    Msg("AP 3: Die 2. BiKo hat am 24.06.2026 stattgefunden", {"AP3": _}, ("M3.2",),
        on=date(2026, 6, 24)),
    Msg("Die dritte BiKo hat gestern stattgefunden 🎉", milestones=("M3.3",),
        on=date(2026, 11, 25)),
    Msg("Die erste BiKo hat stattgefunden", milestones=("M3.1",)),
    Msg("Frühjahrs-BiKo hat stattgefunden, danke an alle!", milestones=("M3.2",)),
    Msg("Die Herbst-BiKo hat stattgefunden", milestones=("M3.3",)),
    Msg("BiKo 2025 hat stattgefunden", milestones=("M3.1",)),
    Msg("Die BiKo hat am 24.06. stattgefunden", milestones=("M3.2",), on=date(2026, 6, 24)),
    Msg("BiKo am 12. November erfolgreich durchgeführt", milestones=("M3.3",),
        on=date(2026, 11, 12)),
    Msg("Die BiKo fand letzten Donnerstag statt, 120 Teilnehmende", milestones=("M3.3",),
        on=date(2026, 11, 19)),
    Msg("Die Bildungskonferenz hat am 20.11. mit 150 Gästen stattgefunden",
        milestones=("M3.3",), on=date(2026, 11, 20)),
    Msg("Leitbild im Stadtrat beschlossen!", milestones=("M2.1",)),
    Msg("Der Stadtrat hat gestern das Leitbild beschlossen", milestones=("M2.1",),
        on=date(2026, 11, 25)),
    Msg("Bericht Fachkräfte ist fertig und ans Ministerium raus", milestones=("M13.1",)),
    # -- milestones unclear: ask, store nothing -------------------------------------------
    Msg("BiKo 2026 hat stattgefunden", ask=True),
    Msg("AP3: BiKo 2026 hat stattgefunden", ask=True),
    # -- milestones planned, not reached -------------------------------------------------
    no("Die BiKo findet am 4. Dezember statt"),
    no("BiKo-Termin steht: 18.3.2027"),
    no("Das Leitbild soll im März beschlossen werden"),
    no("Leitbild noch nicht beschlossen, vertagt"),
    no("Die BiKo wird am 4.12. stattfinden"),
    no("Leitbild wird am 12.3. im Stadtrat beschlossen"),
    no("Wenn alles klappt, ist der Bericht Fachkräfte im Juni fertig"),
    no("Der Bericht Fachkräfte muss bis Juni fertig sein"),
    no("Hat die BiKo schon stattgefunden?"),
    no("Die BiKo hat noch nicht stattgefunden, sie ist auf Januar verschoben"),
    no("Nächste Woche findet die BiKo statt"),
    no("Leitbild-Beschluss ist für den 12.3. geplant"),
    no("Bevor das Leitbild beschlossen wird, brauchen wir noch die Beteiligung"),
    no("Meilenstein M3.3 ist nächste Woche fällig"),
    no("M3.4 soll im Juni erreicht werden"),
    no("BiKo-Planung: Raum gebucht, Einladungen folgen"),
    no("Einladung zur BiKo ist raus"),
    no("Wie war die BiKo gestern?"),
    # -- questions and requests ---------------------------------------------------------
    no("Kann jemand die Präsentation für AP3 hochladen"),
    no("Hat jemand Zeit, AP 12 durchzugehen"),
    no("Bitte bis Freitag eure Zuarbeit zu AP 7"),
    no("Ist AP3 schon fertig?"),
    no("Wie weit ist AP 4?"),
    no("Wer kümmert sich um AP 9"),
    no("Könnt ihr mir bis morgen den Stand zu AP 11 schicken"),
    no("Bitte AP 5 im Jour fixe ansprechen"),
    no("Kannst du AP 8 mal gegenlesen, Bernd"),
    no("Magst du die Zahlen für AP 12 noch prüfen"),
    no("Wer hat die Liste für AP 6"),
    no("Weiß jemand, ob AP 10 schon abgeschlossen ist"),
    no("Könnte jemand die Tabelle zu AP 11 aktualisieren, bitte"),
    no("Brauche bis Mittwoch eure Zahlen für AP 12"),
    no("Denkt bitte an die Zuarbeit zu AP 3!"),
    no("Schickt mir bitte bis Montag alles zu AP 4 und AP 8"),
    no("AP 2 fertig?"),
    no("Welche Meilensteine hat AP 3?"),
    no("Steht AP 8 eigentlich noch im Sachbericht drin"),
    # -- meeting logistics and agenda -----------------------------------------------------
    no("Treffen zu AP 6 verschiebe ich auf Donnerstag"),
    no("AP 3 und AP 4 besprechen wir am Dienstag"),
    no("Termin zu AP 9 ist jetzt um 14 Uhr in Raum 2.14"),
    no("Jour fixe AP 5 fällt diese Woche aus"),
    no("Die Besprechung zu AP 10 ist auf 10 Uhr verschoben"),
    no("Zu AP 7 treffen wir uns am 3.12. um 10 Uhr"),
    no("AP 11 steht am Montag auf der Tagesordnung"),
    no("Agenda für Dienstag: AP 3, AP 4, AP 8"),
    no("Lasst uns AP 12 beim nächsten Jour fixe besprechen"),
    no("Videokonferenz zu AP 13 morgen 9:30, Link kommt"),
    no("Raum für den AP-6-Workshop ist gebucht"),
    no("Können wir AP 4 auf nächste Woche schieben?"),
    no("Den Termin für AP 2 habe ich in den Kalender eingetragen"),
    # -- absences and deputies -------------------------------------------------------
    no("Bin bis Mittwoch krank, AP 9 übernimmt bitte Carla"),
    no("Ich bin ab Montag zwei Wochen im Urlaub. Fragen zu AP 11 bitte an Dirk"),
    no("Vertretung für AP 5 ist diese Woche Bernd"),
    no("Bin heute nur bis 13 Uhr da, Rückfragen zu AP 8 bitte per Mail"),
    no("Während meines Urlaubs vertritt mich Bernd bei AP 12"),
    no("Ich bin morgen auf Dienstreise, für AP 10 ist Carla da"),
    # -- intentions ---------------------------------------------------------------
    no("Ich ruf wegen AP 10 nachher bei der IHK an"),
    no("Ich schreibe morgen die Mail an die Schulen wegen AP 10"),
    no("Ich kümmere mich nächste Woche um AP 4"),
    no("Wir wollen AP 6 im Januar angehen"),
    no("Ich schau mir AP 12 heute Nachmittag an"),
    no("Ich werde AP 7 bis Freitag abschließen"),
    no("Morgen mache ich mit AP 11 weiter"),
    no("Plane, AP 13 im Dezember fertig zu haben"),
    no("AP 9 nehme ich mir nach dem Urlaub vor"),
    no("Ich versuche, AP 8 diese Woche fertig zu bekommen"),
    # -- file paths, phone numbers, links --------------------------------------------
    no(r"Die Protokolle liegen unter S:\Bildung\AP3\Protokolle"),
    no(r"Hab's abgelegt: S:\Bildung\AP12\Bericht\Entwurf_v3.docx"),
    no("Datei liegt in /daten/bildung/AP4/portal.pdf"),
    no("Ruft bitte Frau Meier an: +49 341 123456"),
    no("Rückruf bei Herrn Schmidt, Tel. 0341 123 4567"),
    no("Link zur Umfrage: https://example.org/umfrage/ap3"),
    no("Die Vorlage heißt AP7_Kooperation_final.docx"),
    no("Kontakt IHK: +49 341 12 61 0"),
    no(r"Im Ordner S:\Bildung\AP 5\ liegt das neue Organigramm"),
    # -- an AP mentioned in passing ---------------------------------------------------
    no("Die Kollegin aus AP 3 hat heute Geburtstag 🎂"),
    no("Das Thema passt eher zu AP 9 als zu AP 10"),
    no("Die Kammer hat sich wegen AP 7 gemeldet, ich ruf zurück"),
    no("Wie in AP 2 schon gesagt, brauchen wir mehr Beteiligung"),
    no("Frau Weber ist neu und unterstützt ab Januar AP 11"),
    # -- jokes ---------------------------------------------------------------------
    no("AP 13 ist mein Lieblings-AP 😂"),
    no("Wenn AP 8 so weitergeht, werde ich Pressesprecherin 😄"),
    Msg("AP 5 ist fertig – mit meinen Nerven 😅", ask=True),  # a joke, maybe a report: ask
    no("Ich bin fertig mit der Welt, nicht mit AP 4 😂"),
    no("Kaffee ist das eigentliche AP 14 ☕"),
    no("AP steht für Apfelkuchen-Pause, oder? 😋"),
    # -- chatter -------------------------------------------------------------------
    no("Guten Morgen zusammen! ☕"),
    no("Wer bringt morgen Kuchen mit?"),
    no("Mittagessen um 12?"),
    no("Danke, Anna! 🙏"),
    no("Ich bin heute im Homeoffice"),
    no("Schönes Wochenende euch allen"),
    no("Der Drucker im 3. OG geht wieder"),
    no("Raum 2.14 ist für Dienstag gebucht"),
    no("Wie war's gestern beim Arbeitskreis?"),
    no("Super, danke für die schnelle Rückmeldung!"),
    no("Die Kaffeemaschine ist fertig entkalkt"),
    no("Hat jemand ein Ladekabel übrig"),
    no("Bin in 5 Minuten da"),
    no("Frohe Weihnachten und einen guten Rutsch!"),
    no("Parkplatz vor dem Rathaus ist gesperrt"),
    no("Der Newsletter ist raus, danke an alle"),
    no("Alles erledigt für heute, bis morgen!"),
    no("Zahlen: 60 % der Eltern waren zufrieden"),
    no("Ich bin zu 100 % bei euch"),
    no("👍"),
    no("ok"),
    no("Sitzung um 14:30 im großen Saal"),
)


@dataclass(frozen=True)
class Got:
    """What recording made of a message, in the corpus's terms."""

    aps: dict[str, tuple[str | None, int | None]]
    milestones: tuple[str, ...]
    days: frozenset[date]
    asked: bool


@pytest.fixture(scope="module")
def results(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Got]]:
    """Every message recorded on a fresh store of its own."""
    out = []
    for n, msg in enumerate(CORPUS):
        store = Store.open(tmp_path_factory.mktemp(f"m{n}"), NOW)
        try:
            outcome = record(store, plan, Report(msg.text, Author(101, "Anna Schulze"),
                                                 -100123, n + 1, AT), NOW)
            days = frozenset([u.at.date() for u in outcome.updates]
                             + [m.reached_on for m in outcome.marks])
            recorded = outcome.kind == "recorded"
            out.append(Got({u.ap: (u.state, u.percent) for u in outcome.updates} if recorded
                           else {}, tuple(m.milestone for m in outcome.marks) if recorded
                           else (), days if recorded else frozenset(),
                           outcome.kind == "unsure"))
        finally:
            store.close()
    yield out


def _expected_aps(plan: Plan, msg: Msg) -> dict[str, tuple[str | None, int | None]]:
    """The APs named, plus each reached milestone's AP (recording updates it too)."""
    aps = dict(msg.aps)
    for mid in msg.milestones:
        ms = plan.milestone(mid)
        assert ms is not None, mid
        aps.setdefault(ms.ap, (None, None))
    return aps


def _right(plan: Plan, msg: Msg, got: Got) -> bool:
    if not msg.recorded:
        return not got.aps and not got.milestones and got.asked is msg.ask
    return (got.aps == _expected_aps(plan, msg) and got.milestones == msg.milestones
            and got.days == {msg.on} and not got.asked)


def test_corpus_is_big_and_has_no_repeats() -> None:
    assert len(CORPUS) >= 150
    assert len({m.text for m in CORPUS}) == len(CORPUS)
    assert sum(m.recorded for m in CORPUS) >= 60  # reports, not only chatter
    assert sum(not m.recorded for m in CORPUS) >= 60


def test_no_false_milestone(results: list[Got]) -> None:
    false = [(msg.text, got.milestones) for msg, got in zip(CORPUS, results, strict=True)
             if set(got.milestones) - set(msg.milestones)]
    assert false == []


def test_share_exactly_right(plan: Plan, results: list[Got]) -> None:
    wrong = [f"{msg.text!r}: got {got}" for msg, got in zip(CORPUS, results, strict=True)
             if not _right(plan, msg, got)]
    share = (len(CORPUS) - len(wrong)) / len(CORPUS)
    print(f"chat corpus: {len(CORPUS) - len(wrong)}/{len(CORPUS)} = {share:.1%} exactly right")
    assert share >= REQUIRED_SHARE, "\n".join([f"{share:.1%} exactly right", *wrong])
