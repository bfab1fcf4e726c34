"""Words and white space: the one definition every part of the assistant counts and compares by.

A word is a run of Unicode letters, digits or underscores (``\\w+``), in any script;
white space is collapsed to single spaces wherever text is compared or shown on one line.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


def words(text: str) -> list[str]:
    """The words of ``text`` in order, as written."""
    return _WORD.findall(text)


def lower_words(text: str) -> list[str]:
    """The words of ``text`` in lower case (for matching and indexing; no stemming)."""
    return _WORD.findall(text.lower())


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks too) as one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


def comparable(text: str) -> str:
    """NFC-normalised and on one line: two renderings of the same words compare equal."""
    return one_line(unicodedata.normalize("NFC", text))
