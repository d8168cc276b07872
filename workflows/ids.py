"""Chat, user and message ids: opaque values a front-end hands in and takes back.

The core compares and stores them, never computes with them: a Telegram chat id and a
Matrix room id (`!abc:server`) are both just ids here.
"""

from __future__ import annotations

from typing import TypeAlias

ChatId: TypeAlias = str
UserId: TypeAlias = str
MessageId: TypeAlias = str
