"""German formats and Telegram HTML: dates, day counts, escaping, splitting long messages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.format import (
    TELEGRAM_LIMIT,
    ago,
    day,
    esc,
    short_day,
    split_message,
    to_plain,
    trim,
    until,
    utf16_len,
)

ENTITY = re.compile(r"&(?:amp|lt|gt);")
TAG = re.compile(r"<(/?)([a-z]+)[^<>]*>")


def no_cut_entity(part: str) -> bool:
    """Every "&" in a part starts a complete entity."""
    return all(ENTITY.match(part, m.start()) for m in re.finditer("&", part))


def well_formed(part: str) -> bool:
    """Only whole tags, each closed in the same part, in the right order."""
    if "<" in TAG.sub("", part) or ">" in TAG.sub("", part):
        return False
    stack: list[str] = []
    for m in TAG.finditer(part):
        if not m.group(1):
            stack.append(m.group(2))
        elif not stack or stack.pop() != m.group(2):
            return False
    return not stack


def units(text: str) -> int:
    """UTF-16 code units, counted the long way."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


# -- dates and day counts ----------------------------------------------------------------------


def test_day() -> None:
    assert day(date(2026, 12, 31)) == "Do., 31.12.2026"
    assert day(date(2027, 1, 4)) == "Mo., 04.01.2027"


def test_day_names_every_weekday() -> None:
    monday = date(2026, 11, 23)
    names = [day(monday + timedelta(days=i)).split(",")[0] for i in range(7)]
    assert names == ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."]


def test_short_day() -> None:
    assert short_day(date(2026, 3, 5)) == "05.03.2026"


@pytest.mark.parametrize(("days_left", "text"), [
    (0, "heute"),
    (1, "morgen"),
    (2, "in 2 Tagen"),
    (35, "in 35 Tagen"),
    (-1, "seit 1 Tag überfällig"),
    (-12, "seit 12 Tagen überfällig"),
    (-330, "seit 330 Tagen überfällig"),
])
def test_until(days_left: int, text: str) -> None:
    assert until(days_left) == text


@pytest.mark.parametrize(("days_past", "text"), [
    (0, "heute"), (-1, "heute"), (1, "gestern"), (2, "vor 2 Tagen"), (30, "vor 30 Tagen"),
])
def test_ago(days_past: int, text: str) -> None:
    assert ago(days_past) == text


def test_trim() -> None:
    assert trim("kurz", 10) == "kurz"
    assert trim("genau zehn", 10) == "genau zehn"
    assert trim("ein etwas längerer Text", 10) == "ein etwas…"
    assert len(trim("x" * 500, 300)) == 300


# -- escaping and plain text ------------------------------------------------------------------


def test_esc() -> None:
    assert esc("<b>fett</b> & Co") == "&lt;b&gt;fett&lt;/b&gt; &amp; Co"
    assert esc('„AP3“ "zitiert" \'so\'') == '„AP3“ "zitiert" \'so\''  # quotes need no escape
    assert esc("&amp;") == "&amp;amp;"  # escaping twice shows what was typed


def test_to_plain() -> None:
    html = "<b>AP 3 · Bildungskonferenzen</b>\n<i>Zitat &lt;b&gt; &amp; mehr</i>\n<s>alt</s>"
    assert to_plain(html) == "AP 3 · Bildungskonferenzen\nZitat <b> & mehr\nalt"


@given(st.text())
def test_to_plain_undoes_esc(text: str) -> None:
    assert to_plain(esc(text)) == text


# -- splitting long messages ---------------------------------------------------------------


def test_short_message_is_one_part() -> None:
    assert split_message("<b>kurz</b>\nund gut") == ["<b>kurz</b>\nund gut"]
    assert split_message("x" * TELEGRAM_LIMIT) == ["x" * TELEGRAM_LIMIT]


def test_long_multiline_html_splits_at_line_boundaries() -> None:
    lines = [f"• <b>AP {i % 13 + 1}</b> Meldung Nr. {i}: Einladungen &amp; Räume &lt;ok&gt;"
             for i in range(200)]
    message = "\n".join(lines)
    assert len(message) > 10_000
    parts = split_message(message)
    assert len(parts) >= 3
    assert all(len(p) <= TELEGRAM_LIMIT for p in parts)
    # whole lines only: each part's lines are lines of the input, in order
    assert [line for p in parts for line in p.split("\n")] == lines
    assert "".join(parts).replace("\n", "") == message.replace("\n", "")
    assert "\n".join(parts) == message
    for p in parts:
        assert p.count("<b>") == p.count("</b>")
        assert no_cut_entity(p)


def test_split_message_is_greedy() -> None:
    line = "y" * 1000
    parts = split_message("\n".join([line] * 9))
    # four lines of 1000 plus three newlines fit in 4096
    assert [len(p) for p in parts] == [4003, 4003, 1000]


def test_single_line_without_spaces_is_cut() -> None:
    line = "x" * 5000
    parts = split_message(line)
    assert parts == ["x" * TELEGRAM_LIMIT, "x" * (5000 - TELEGRAM_LIMIT)]


def test_single_long_line_is_cut_at_a_space() -> None:
    words = " ".join(f"wort{i:04d}" for i in range(600))  # 5399 characters
    parts = split_message(words)
    assert len(parts) == 2
    assert all(len(p) <= TELEGRAM_LIMIT for p in parts)
    assert " ".join(parts) == words
    assert re.fullmatch(r"(wort\d{4} )*wort\d{4}", parts[0])


def test_an_entity_is_never_cut() -> None:
    line = "x" * (TELEGRAM_LIMIT - 3) + "&amp;" + "y" * 100  # the cut would fall inside "&amp;"
    parts = split_message(line)
    assert parts == ["x" * (TELEGRAM_LIMIT - 3), "&amp;" + "y" * 100]
    only_entities = "&lt;" * 2000
    parts = split_message(only_entities)
    assert "".join(parts) == only_entities
    assert all(len(p) <= TELEGRAM_LIMIT and no_cut_entity(p) for p in parts)


def test_empty_message() -> None:
    assert split_message("") == [""]


_word = st.one_of(
    st.text(alphabet="abcäöüß0123456789.,:–", min_size=1, max_size=12),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "<b>AP 3</b>", "60 %"]),
)
_line = st.lists(_word, max_size=30).map(" ".join)


@given(lines=st.lists(_line, min_size=1, max_size=30), limit=st.integers(min_value=12,
                                                                       max_value=200))
def test_split_message_properties(lines: list[str], limit: int) -> None:
    message = "\n".join(lines)
    parts = split_message(message, limit)
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(no_cut_entity(p) and well_formed(p) for p in parts)
    # nothing is lost but the newlines and spaces at the cuts (a <b> cut apart is closed
    # and opened again, so the text read is the same, not the HTML)
    plain = re.sub(r"\s", "", to_plain("".join(parts)))
    assert plain == re.sub(r"\s", "", to_plain(message))


# -- UTF-16 code units, as Telegram counts ---------------------------------------------------


def test_utf16_len() -> None:
    assert utf16_len("") == 0
    assert utf16_len("Räume ß €") == 9  # the BMP: one unit each
    assert utf16_len("😀") == 2
    assert utf16_len("👩‍💻") == 5  # woman, joiner, laptop
    assert utf16_len("🇩🇪") == 4
    assert utf16_len("a\ud800b") == 3  # a lone surrogate from Telegram counts, never raises


def test_an_emoji_heavy_verlauf_fits_telegram() -> None:
    # 2,000 characters a line but 2,800 units: by characters two lines fit in 4096, by
    # Telegram's count only one
    lines = [f"• {i:02d}.12.2026 Anna: " + "🎉🎉🎉 AP " * 280 for i in range(1, 11)]
    message = "\n".join(lines)
    assert len(lines[0]) < 2000 and units(lines[0]) > 2800
    parts = split_message(message)
    assert all(units(p) <= TELEGRAM_LIMIT for p in parts)
    assert "\n".join(parts) == message  # whole lines: they rejoin to the original
    assert len(parts) == 10


def test_a_line_of_emoji_only_is_cut_between_emoji() -> None:
    message = "😀" * 5000  # 10,000 units, no space
    parts = split_message(message)
    assert parts == ["😀" * 2048, "😀" * 2048, "😀" * 904]
    assert "".join(parts) == message


@pytest.mark.parametrize("emoji", ["👩‍💻", "👍🏽", "🇩🇪", "👨‍👩‍👧‍👦", "❤️", "1️⃣",
                                   "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"],
                         ids=["zwj", "skin-tone", "flag", "family", "variation", "keycap",
                              "subdivision-flag"])
def test_an_emoji_with_its_joiners_and_modifiers_is_never_cut(emoji: str) -> None:
    message = "x" + emoji * (3 * TELEGRAM_LIMIT // units(emoji))
    parts = split_message(message)
    assert len(parts) > 1
    assert "".join(parts) == message
    assert all(units(p) <= TELEGRAM_LIMIT for p in parts)
    assert all(p.removeprefix("x").replace(emoji, "") == "" for p in parts)


def test_lone_surrogates_are_counted_not_fatal() -> None:
    message = "ab\ud800cd " * 1000
    parts = split_message(message)
    assert all(utf16_len(p) <= TELEGRAM_LIMIT for p in parts)
    assert " ".join(parts) == message


def test_an_emoji_heavy_long_line_is_cut_at_spaces_by_units() -> None:
    words = " ".join(["Räume🎉"] * 1200)  # 8,399 characters, 9,599 units
    parts = split_message(words)
    assert len(parts) == 3
    assert all(units(p) <= TELEGRAM_LIMIT for p in parts)
    assert " ".join(parts) == words


# -- tags across a cut -------------------------------------------------------------------------


def test_a_pre_block_across_lines_is_closed_and_reopened() -> None:
    rows = [f"AP{i:<3} " + "█" * 40 + " 😀" for i in range(200)]
    message = "<pre>" + "\n".join(rows) + "</pre>"
    parts = split_message(message)
    assert len(parts) > 1
    assert all(units(p) <= TELEGRAM_LIMIT and well_formed(p) for p in parts)
    assert all(p.startswith("<pre>") and p.endswith("</pre>") for p in parts)
    assert "\n".join(to_plain(p) for p in parts) == to_plain(message)


def test_a_bold_line_cut_at_spaces_stays_bold_in_every_part() -> None:
    message = "<b>" + " ".join(["Bildungskonferenz😀"] * 500) + "</b>\nEnde"
    parts = split_message(message)
    assert len(parts) == 3
    assert all(units(p) <= TELEGRAM_LIMIT and well_formed(p) for p in parts)
    assert all(p.startswith("<b>") for p in parts[:-1])
    assert " ".join(to_plain(p) for p in parts).replace(" Ende", "\nEnde") == to_plain(message)


def test_a_tag_with_spaces_inside_is_never_cut() -> None:
    link = '<a href="https://example.org/?q=ein wort">Link</a>'
    message = " ".join([link] * 300)
    parts = split_message(message)
    assert len(parts) > 1
    assert all(len(p) <= TELEGRAM_LIMIT and well_formed(p) for p in parts)
    assert " ".join(parts) == message


def test_a_long_message_of_short_emoji_lines_rejoins() -> None:
    message = "\n".join(f"• <b>AP {i % 13 + 1}</b> 😀 Meldung {i} &amp; mehr"
                        for i in range(3000))
    parts = split_message(message)
    assert "\n".join(parts) == message
    assert all(units(p) <= TELEGRAM_LIMIT for p in parts)


_emoji_word = st.one_of(
    _word,
    st.text(alphabet="😀🎉👍🏽🇩🇪ä€\u200d\u0301", min_size=1, max_size=6),
    st.sampled_from(["👩‍💻", "<i>kursiv 😀</i>", "&amp;😀", "<pre>a\nb</pre>"]),
)
_emoji_line = st.lists(_emoji_word, max_size=30).map(" ".join)


@given(lines=st.lists(_emoji_line, min_size=1, max_size=30),
       limit=st.integers(min_value=16, max_value=300))
def test_split_message_properties_with_emoji(lines: list[str], limit: int) -> None:
    message = "\n".join(lines)
    parts = split_message(message, limit)
    assert all(units(p) <= limit for p in parts)
    assert all(no_cut_entity(p) and well_formed(p) for p in parts)
    plain = re.sub(r"\s", "", to_plain("".join(parts)))
    assert plain == re.sub(r"\s", "", to_plain(message))
