"""Taking the bot's own mention out of a message, as every front-end hands it to the core."""

from __future__ import annotations

import re


def take_out(text: str, mention: str) -> str:
    """`text` without the mention (a regex) and the commas around it, nothing else of it.

    "Wann ist die BiKo, @apbot?" → "Wann ist die BiKo?"; "@apbot Status AP 11" →
    "Status AP 11"; "Hallo @apbot, wie weit ist AP3?" → "Hallo wie weit ist AP3?".
    """
    pattern = re.compile(rf"[ \t]*,?[ \t]*(?:{mention})[,:]?[ \t]*", re.IGNORECASE)

    def gap(m: re.Match[str]) -> str:
        after = m.string[m.end():m.end() + 1]
        return "" if m.start() == 0 or after in ("", "?", "!", ".", "\n") else " "
    return pattern.sub(gap, text).strip()
