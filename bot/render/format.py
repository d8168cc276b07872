"""German formats and Telegram HTML: dates, day counts, escaping, splitting long messages."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

TELEGRAM_LIMIT = 4096  # per message, in UTF-16 code units as Telegram counts: 😀 is 2
WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")


def esc(text: str) -> str:
    """Escape user or plan text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def day(d: date) -> str:
    """ "Do., 31.12.2026" """
    return f"{WEEKDAYS[d.weekday()]}, {d:%d.%m.%Y}"


def short_day(d: date) -> str:
    """ "31.12.2026" """
    return f"{d:%d.%m.%Y}"


def days(n: int) -> str:
    return "1 Tag" if abs(n) == 1 else f"{abs(n)} Tagen"


def until(days_left: int) -> str:
    """ "heute", "morgen", "in 35 Tagen", "seit 12 Tagen überfällig" """
    if days_left == 0:
        return "heute"
    if days_left == 1:
        return "morgen"
    if days_left > 1:
        return f"in {days(days_left)}"
    return f"seit {days(days_left)} überfällig"


def ago(days_past: int) -> str:
    """ "heute", "gestern", "vor 3 Tagen" """
    if days_past <= 0:
        return "heute"
    return "gestern" if days_past == 1 else f"vor {days(days_past)}"


def trim(text: str, limit: int) -> str:
    """Shorten text to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_TAG = re.compile(r"<[^>]+>")


def to_plain(message: str) -> str:
    """Telegram HTML → terminal text."""
    return html.unescape(_TAG.sub("", message))


def utf16_len(text: str) -> int:
    """The length Telegram measures: UTF-16 code units, 2 for each character beyond U+FFFF."""
    # surrogatepass: text from Telegram can, rarely, hold a lone surrogate; it counts one unit.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True)
class _Atom:
    """A piece of a message that is never cut: a tag, an entity, a character with its marks."""

    text: str
    units: int
    kind: str  # "open", "close" (tags), "newline", "space", "text", "word" (cut if it must)
    tag: str = ""  # the tag's name, for "open" and "close"


_ATOM_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);")
_WORD = re.compile(r"[^\n <&]+")
_ZWJ = "\u200d"


def _extends(c: str) -> bool:
    """A character that belongs to the one before: marks, variation selectors, skin tones."""
    return (unicodedata.category(c) in ("Mn", "Me", "Mc")
            or "\U0001f3fb" <= c <= "\U0001f3ff"  # emoji skin tones
            or "\U000e0020" <= c <= "\U000e007f")  # emoji tag sequences (flags of regions)


def _regional(c: str) -> bool:
    return "\U0001f1e6" <= c <= "\U0001f1ff"


def _cluster_end(text: str, i: int) -> int:
    """Where the character at `i` ends with all that belongs to it (an approximate grapheme)."""
    n = len(text)
    j = i + 1
    if "\ud800" <= text[i] <= "\udbff" and j < n and "\udc00" <= text[j] <= "\udfff":
        j += 1  # a surrogate pair that reached us as two code points
    elif _regional(text[i]) and j < n and _regional(text[j]):
        j += 1  # two regional indicators are one flag
    while j < n:
        if _extends(text[j]):
            j += 1
        elif text[j] == _ZWJ:  # 👩‍💻: joined to the next character
            j += 1
            if j < n and text[j] not in "\n <&":
                j += 1
        else:
            break
    return j


def _atoms(message: str) -> list[_Atom]:
    """Tags, entities, line breaks, spaces and whole words; a word is cut only when it must."""
    atoms = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c == "<" and (m := _ATOM_TAG.match(message, i)):
            kind = "close" if m.group(1) else "open"
            atoms.append(_Atom(m.group(0), utf16_len(m.group(0)), kind, m.group(2).lower()))
            i = m.end()
        elif c == "&" and (m := _ENTITY.match(message, i)):
            atoms.append(_Atom(m.group(0), len(m.group(0)), "text"))
            i = m.end()
        elif c in "\n ":
            atoms.append(_Atom(c, 1, "newline" if c == "\n" else "space"))
            i += 1
        elif m := _WORD.match(message, i):
            atoms.append(_Atom(m.group(0), utf16_len(m.group(0)), "word"))
            i = m.end()
        else:  # a "<" or "&" that starts no tag or entity
            atoms.append(_Atom(c, 1, "text"))
            i += 1
    return atoms


def _characters(word: str) -> list[_Atom]:
    """A word as its characters, each with the marks and joiners that belong to it."""
    out = []
    i = 0
    while i < len(word):
        j = _cluster_end(word, i)
        out.append(_Atom(word[i:j], utf16_len(word[i:j]), "text"))
        i = j
    return out


Tags = tuple[_Atom, ...]  # the open tags, outermost first
_NO_TAGS: Tags = ()


def _after(open_tags: Tags, atom: _Atom) -> Tags:
    if atom.kind == "open":
        return (*open_tags, atom)
    if atom.kind == "close":
        for k in range(len(open_tags) - 1, -1, -1):
            if open_tags[k].tag == atom.tag:
                return open_tags[:k] + open_tags[k + 1:]
    return open_tags


def _closing(open_tags: Tags) -> str:
    return "".join(f"</{t.tag}>" for t in reversed(open_tags))


def split_message(message: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split into parts of at most `limit` UTF-16 code units, as Telegram counts.

    Parts end at a line break where one fits, else at a space, else between two
    characters; never inside a tag, an entity, a surrogate pair or an emoji with its
    modifiers. The newline or space at a cut is dropped. A tag still open at a cut
    (a <pre> across lines, a <b> around a long line) is closed at the end of the part
    and opened again at the start of the next, so every part is well-formed HTML.
    """
    if utf16_len(message) <= limit:
        return [message]
    atoms = _atoms(message)
    parts: list[str] = []
    start, start_tags = 0, _NO_TAGS  # where the current part begins, and the tags open there
    i, tags = 0, start_tags
    units = 0  # of the current part without its closing tags
    closing = 0  # units of the closing tags for `tags`
    newline: tuple[int, Tags] | None = None  # the last line break in the part, and its tags
    space: tuple[int, Tags] | None = None
    while i < len(atoms):
        atom = atoms[i]
        if atom.kind == "newline":
            newline = (i, tags)
        elif atom.kind == "space":
            space = (i, tags)
        if i == start:
            units, closing = sum(t.units for t in start_tags), len(_closing(start_tags))
        after = _after(tags, atom) if atom.kind in ("open", "close") else tags
        after_closing = closing if after is tags else len(_closing(after))
        if units + atom.units + after_closing <= limit:
            units, tags, closing = units + atom.units, after, after_closing
            i += 1
            continue
        if atom.kind == "word" and len(atom.text) > 1 and not (
                (newline and newline[0] > start) or (space and space[0] > start)):
            atoms[i:i + 1] = _characters(atom.text)  # no break to cut at: cut inside the word
            if len(atoms[i].text) < len(atom.text):
                continue
            atoms[i] = _Atom(atom.text, atom.units, "text")  # one character, sent as it is
            continue
        if i == start:
            if start_tags:  # the reopened tags leave no room: give them up rather than loop
                start_tags = tags = _NO_TAGS
                continue
            units, tags, closing = units + atom.units, after, after_closing
            i += 1  # a single character or tag beyond the limit: sent whole, the only way on
            continue
        if newline is not None and newline[0] > start:
            (cut, cut_tags), resume = newline, newline[0] + 1
        elif space is not None and space[0] > start:
            (cut, cut_tags), resume = space, space[0] + 1
            while resume < len(atoms) and atoms[resume].kind == "space":
                resume += 1  # no part starts with the spaces of a cut line
        else:
            cut, cut_tags = i, tags  # no break in the part: between two characters
            while cut - 1 > start and atoms[cut - 1].kind == "open" and cut_tags:
                cut, cut_tags = cut - 1, cut_tags[:-1]  # a tag opened last goes with its text
            resume = cut
        parts.append("".join(t.text for t in start_tags)
                     + "".join(a.text for a in atoms[start:cut]) + _closing(cut_tags))
        start, start_tags = resume, cut_tags
        i, tags = resume, cut_tags
        newline = space = None
    parts.append("".join(t.text for t in start_tags) + "".join(a.text for a in atoms[start:]))
    return [p for p in parts if to_plain(p).strip()] or [message[:limit]]
