"""Text as the understanding sees it: one normal form for transcripts and web forms."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000  # a caller's request; longer input is cut (5,000-character rants too)

_FILLERS = re.compile(r"(喂+|嗯+|呃+|额+(?!度|外)|啊+|哦+|唉+|诶+|那个那个|就是说|就是就是)")
_SPACES = re.compile(r"\s+")
_GREETING = re.compile(r"^(你好|您好|喂?你好啊?|麻烦一下|不好意思)[，,。!！]*")


def normalise(text: str) -> str:
    """NFKC (full-width folded), lower-case Latin, spaces collapsed, fillers dropped."""
    folded = unicodedata.normalize("NFKC", text or "")[:MAX_CHARS]
    folded = _SPACES.sub(" ", folded).strip().lower()
    folded = _FILLERS.sub("", folded)
    folded = re.sub(r"([，,。])\s*[，,。]+", r"\1", folded)
    return folded.strip(" ，,。")


def clauses(text: str) -> list[str]:
    """The text cut into clauses at Chinese and Latin punctuation."""
    return [c.strip() for c in re.split(r"[，,。！!？?；;\n]+", text) if c.strip()]


def without_greeting(clause: str) -> str:
    return _GREETING.sub("", clause).strip()
