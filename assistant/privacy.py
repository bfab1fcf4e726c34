"""Privacy of chat messages in logs.

Chat messages are never stored (feedback keeps a masked copy of a rated question, see
``feedback.py``). Logs carry only an event name and the message length; with the debug
setting on they also carry the message, with e-mail addresses, phone numbers and personal
identity numbers masked as ``[email]``, ``[phone]`` and ``[id-number]``.

Identity numbers of the region that are recognised by shape:
    SE personnummer      YYMMDD-XXXX, YYMMDD+XXXX, YYYYMMDD-XXXX, or 10/12 digits (Luhn)
    DK CPR-nummer        DDMMYY-XXXX
    IS kennitala         DDMMYY-XXXX
    FI henkilötunnus     DDMMYY[-+A-FU-Y]XXXC
    LV personas kods     DDMMYY-XXXXX
    NO fødselsnummer     11 digits (also DDMMYY XXXXX)
    PL PESEL             11 digits
    EE/LT isikukood      11 digits
Masking errs on the side of hiding: an 11-digit run is always treated as an identity
number, and any other run of 7-15 digits (with spaces, dots, dashes or brackets) as a
phone number, except plain years, year ranges and dates.
"""

from __future__ import annotations

import logging
import re

EMAIL, PHONE, ID_NUMBER = "[email]", "[phone]", "[id-number]"

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Identity numbers, most specific first. (?<!\+) keeps "+4670..." a phone number.
_IDS = (
    re.compile(r"(?<![\w+])(?:19|20)\d{6}[-+]?\d{4}(?!\w)"),  # SE, 12 digits
    re.compile(r"(?<![\w+])\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y](?!\w)"),  # FI (and DK/IS/SE with '-')
    re.compile(r"(?<![\w+])\d{6}-\d{5}(?!\w)"),  # LV
    re.compile(r"(?<![\w+])\d{6}[-+]\d{4}(?!\w)"),  # SE, DK, IS
    re.compile(r"(?<![\w+])\d{6} \d{5}(?!\w)"),  # NO written in two groups
    re.compile(r"(?<![\w+])\d{11}(?!\w)"),  # NO, PL, EE, LT
)
_TEN_DIGITS = re.compile(r"(?<![\w+])\d{10}(?!\w)")
_PHONE = re.compile(r"(?<![\w/.-])(?:\+|00)?\(?\d[\d\s().-]{5,}\d(?![\w/])")
_NOT_PHONE = (
    re.compile(r"(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)?\d\d)?"),  # a year or a range
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}"),  # ISO date
    re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"),  # 01.01.2016
    re.compile(r"\d+\.\d+"),  # a decimal such as a score
)


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses, identity numbers and phone numbers masked."""
    text = _EMAIL.sub(EMAIL, text)
    for pattern in _IDS:
        text = pattern.sub(ID_NUMBER, text)
    text = _TEN_DIGITS.sub(lambda m: ID_NUMBER if _is_personnummer(m.group()) else m.group(), text)
    return _PHONE.sub(_phone, text)


def log_message(logger: logging.Logger, event: str, text: str, *, debug: bool) -> None:
    """Log that a message was handled: its length only, or the masked text when ``debug``."""
    if debug:
        logger.info("%s (%d characters): %r", event, len(text), mask_personal_data(text))
    else:
        logger.info("%s (%d characters)", event, len(text))


def _phone(match: re.Match[str]) -> str:
    candidate = match.group().strip()
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15 or any(p.fullmatch(candidate) for p in _NOT_PHONE):
        return match.group()
    # Keep the whitespace the pattern swallowed at either end.
    head = match.group()[: len(match.group()) - len(match.group().lstrip())]
    tail = match.group()[len(match.group().rstrip()):]
    return f"{head}{PHONE}{tail}"


def _is_personnummer(digits: str) -> bool:
    """A bare 10-digit Swedish personnummer: a plausible YYMMDD and a valid Luhn check digit."""
    month, day = int(digits[2:4]), int(digits[4:6])
    if not 1 <= month <= 12 or not (1 <= day <= 31 or 61 <= day <= 91):  # 61-91: samordningsnummer
        return False
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0
