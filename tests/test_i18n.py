"""Catalogues are complete and consistent with the code; negotiation, names and detection work."""

from __future__ import annotations

import gettext
import re
import string
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from assistant.i18n import (
    LOCALES,
    N_,
    Catalogues,
    LanguageDetector,
    country_for_locale,
    country_name,
    format_number,
    language_name,
    negotiate,
)

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
UPDATE_HINT = "run `make i18n-update` and translate the new entries"
# Msgids that may read the same in another language (names, numbers).
SAME_IN_TRANSLATION: frozenset[str] = frozenset()
_PRINTF = re.compile(r"%(?:\([^)]+\))?[#0\- +]*\d*(?:\.\d+)?[sdifr]")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _ids(catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _placeholders(text: str) -> set[str]:
    """``{name}`` fields (format syntax) and ``%(name)s``/``%s`` printf directives of ``text``."""
    names = {f"{{{field}}}" for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    return names | set(_PRINTF.findall(text.replace("%%", "")))


@pytest.fixture(scope="module")
def template():
    assert TEMPLATE.is_file(), f"{TEMPLATE} is missing; {UPDATE_HINT}"
    return _read(TEMPLATE)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The template ``pybabel extract`` writes from today's code, exactly as the Makefile runs it."""
    out = tmp_path_factory.mktemp("extract") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
        "-k", "_", "-k", "N_", "-k", "ngettext:1,2", "-k", "N_plural:1,2",
        "--no-location", "--omit-header", "-o", str(out), str(ROOT / "assistant"),
    ])
    return _read(out)


@pytest.fixture(scope="module")
def catalogues() -> dict[str, object]:
    return {locale: _read(_po(locale), locale) for locale in LOCALES}


# (1) the template holds every message of the code


def test_every_msgid_in_the_code_is_in_the_template(extracted, template):
    missing = _ids(extracted) - _ids(template)
    assert not missing, f"messages in the code but not in translations/messages.pot ({UPDATE_HINT}): {sorted(map(str, missing))}"


def test_template_has_no_stale_msgids(extracted, template):
    stale = _ids(template) - _ids(extracted)
    assert not stale, f"messages no longer in the code ({UPDATE_HINT}): {sorted(map(str, stale))}"


def test_extraction_reads_the_package(tmp_path):
    # Guards babel.cfg: its patterns are relative to the folder pybabel extracts from.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text('X = N_("Marked constant.")\ndef f(tr, n):\n    return tr.ngettext("{n} item", "{n} items", n)\n')
    out = tmp_path / "t.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_",
                                "--no-location", "--omit-header", "-o", str(out), str(pkg)])
    assert _ids(_read(out)) == {"Marked constant.", ("{n} item", "{n} items")}


# (2) every catalogue translates every message


def _reads_as_english(message) -> bool:
    if isinstance(message.id, tuple):
        return set(message.string) <= set(message.id)
    return message.string == message.id


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale, template, catalogues):
    catalog = catalogues[locale]
    assert not catalog.fuzzy, f"{_po(locale)}: the header is marked fuzzy"
    assert str(catalog.locale) == locale
    problems = []
    for msgid in _ids(template):
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not all(s.strip() for s in (message.string if isinstance(message.string, tuple) else (message.string,))):
            problems.append(f"untranslated: {msgid!r}")
        elif locale != "en" and msgid not in SAME_IN_TRANSLATION and _reads_as_english(message):
            problems.append(f"left in English: {msgid!r}")
    assert not problems, f"{_po(locale)} ({UPDATE_HINT}):\n" + "\n".join(problems)


# (3) placeholders survive translation


def _forms_only_for_one(locale: str) -> set[int]:
    """Plural form indices the language uses for n == 1 alone (they may omit the number)."""
    choose = gettext.c2py(get_plural(locale).plural_expr)
    users: dict[int, set[int]] = {}
    for n in range(1000):
        users.setdefault(choose(n), set()).add(n)
    return {form for form, ns in users.items() if ns == {1}}


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale, template, catalogues):
    only_one = _forms_only_for_one(locale)
    problems = []
    for message in catalogues[locale]:
        if not message.id or message.id not in _ids(template):
            continue
        if isinstance(message.id, tuple):
            singular, plural = (_placeholders(i) for i in message.id)
            for index, form in enumerate(message.string):
                allowed = [plural, singular] if index in only_one else [plural]
                if _placeholders(form) not in allowed:
                    problems.append(f"{message.id!r} form {index}: {form!r}")
        elif _placeholders(message.string) != _placeholders(message.id):
            problems.append(f"{message.id!r}: {message.string!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            text.format(**dict.fromkeys(fields, "x"))  # raises on a broken brace
    assert not problems, f"{_po(locale)}: placeholders differ from the msgid:\n" + "\n".join(problems)


def test_forms_only_for_one_follow_the_rules():
    assert _forms_only_for_one("pl") == {0}
    assert _forms_only_for_one("uk") == set()  # 21 is "one" in Ukrainian
    assert _forms_only_for_one("is") == set()


# (4) plural forms follow each language's rules


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_header(locale, catalogues):
    catalog = catalogues[locale]
    rule = get_plural(locale)
    assert catalog.num_plurals == rule.num_plurals
    assert catalog.plural_expr.replace(" ", "") == rule.plural_expr.replace(" ", "")
    for message in catalog:
        if message.id and isinstance(message.id, tuple):
            assert len(message.string) == rule.num_plurals, f"{locale}: {message.id!r} needs {rule.num_plurals} forms"


def test_several_plural_forms_where_the_language_has_them(catalogues):
    assert {loc: catalogues[loc].num_plurals for loc in ("pl", "uk", "lt", "lv", "is", "de")} == {
        "pl": 3, "uk": 3, "lt": 3, "lv": 3, "is": 2, "de": 2}


# n → index of msgstr[] ngettext must pick (forms labelled f0, f1, f2 below).
PLURAL_CASES = {
    "pl": {1: 0, 2: 1, 4: 1, 5: 2, 12: 2, 22: 1, 25: 2, 0: 2},
    "uk": {1: 0, 21: 0, 2: 1, 24: 1, 5: 2, 11: 2, 12: 2, 0: 2},
    "lt": {1: 0, 21: 0, 2: 1, 9: 1, 10: 2, 11: 2, 12: 2, 22: 1},
    "lv": {0: 0, 10: 0, 11: 0, 1: 1, 21: 1, 2: 2, 5: 2, 22: 2},
    "is": {1: 0, 21: 0, 11: 1, 2: 1, 5: 1},
    "de": {1: 0, 2: 1, 0: 1},
}


@pytest.fixture(scope="module")
def probe_catalogues(tmp_path_factory) -> Catalogues:
    """The shipped catalogues (their headers) plus one probe plural message, loaded by Catalogues."""
    root = tmp_path_factory.mktemp("probe")
    for locale in LOCALES:
        catalog = _read(_po(locale), locale)
        catalog.add(("{n} probe", "{n} probes"), tuple(f"f{i} {{n}}" for i in range(catalog.num_plurals)))
        target = root / locale / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True)
        with target.open("wb") as fh:
            write_po(fh, catalog)
    return Catalogues.load(root)


@pytest.mark.parametrize("locale", sorted(PLURAL_CASES))
def test_ngettext_chooses_the_right_form(locale, probe_catalogues):
    tr = probe_catalogues.translator(locale)
    chosen = {n: tr.ngettext("{n} probe", "{n} probes", n) for n in PLURAL_CASES[locale]}
    assert chosen == {n: f"f{i} {{n}}" for n, i in PLURAL_CASES[locale].items()}


def test_real_plural_messages_use_the_language_rule(template):
    catalogues = Catalogues.load()
    plurals = [m.id for m in template if isinstance(m.id, tuple)]
    for singular, plural in plurals:
        for locale in ("pl", "uk", "lt", "lv"):
            shipped = _read(_po(locale), locale)[singular].string
            tr = catalogues.translator(locale)
            for n, index in PLURAL_CASES[locale].items():
                assert tr.ngettext(singular, plural, n) == shipped[index]


# Catalogues and Translator


def test_catalogues_load_every_locale_and_fall_back_to_english():
    catalogues = Catalogues.load()
    assert catalogues.locales == LOCALES
    assert catalogues.translator("pl").locale == "pl"
    assert catalogues.translator("nb-NO").locale == "nb"
    assert catalogues.translator("fr").locale == "en"
    assert catalogues.translator(None).locale == "en"
    assert catalogues.translator("pl") is catalogues.translator("pl")
    tr = catalogues.translator("de")
    assert tr.gettext("") == ""  # not the catalogue header
    assert tr.gettext("A sentence nobody translated.") == "A sentence nobody translated."
    assert N_("Marked.") == "Marked."


def test_missing_translations_folder_says_what_to_do(tmp_path):
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="not found"):
        Catalogues.load(tmp_path / "nowhere")


# (5) negotiation


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pl-PL,pl;q=0.9,en;q=0.8", "pl"),
        ("nn", "nb"),
        ("no", "nb"),
        ("nb-NO,nb;q=0.9", "nb"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
        ("fr-FR,fr;q=0.9,de;q=0.5", "de"),
        ("en;q=0.2,uk;q=0.9", "uk"),
        ("lt;q=0,lv", "lv"),
        ("de_AT", "de"),
        ("*", "en"),
    ],
)
def test_negotiate(header, expected):
    assert negotiate(header) == expected


def test_negotiate_default():
    assert negotiate("fr", default="sv") == "sv"


# (6) names and numbers in the region's languages


def test_language_names_in_their_own_language():
    assert language_name("pl") == "polski"
    assert language_name("de") == "Deutsch"
    assert language_name("nb") == "norsk bokmål"
    assert language_name("uk") == "українська"
    assert language_name("lt", "en") == "Lithuanian"
    assert language_name("xx") == ""
    assert len({language_name(code) for code in LOCALES}) == len(LOCALES)


def test_countries():
    assert country_name("PL", "de") == "Polen"
    assert country_name("se", "fi") == "Ruotsi"
    assert country_for_locale("nb") == "NO"
    assert country_for_locale("sv") == "SE"
    assert country_for_locale("uk") == "UA"
    assert country_for_locale("en") is None
    assert {country_for_locale(code) for code in LOCALES if code != "en"} == {
        "DK", "DE", "EE", "FI", "IS", "LV", "LT", "NO", "PL", "SE", "UA"}


def test_format_number():
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_number(1234.5, "de") == "1.234,5"
    assert format_number(1234.5, "pl").replace("\xa0", " ") == "1 234,5"


# (7) language detection


QUESTIONS = {
    "en": "How should professionals respond when a child discloses abuse at school?",
    "da": "Hvordan skal fagfolk reagere, når et barn fortæller om overgreb?",
    "de": "Wie sollen Fachkräfte reagieren, wenn ein Kind von Missbrauch erzählt?",
    "et": "Kuidas peaksid spetsialistid reageerima, kui laps räägib väärkohtlemisest?",
    "fi": "Miten ammattilaisten pitäisi toimia, kun lapsi kertoo kaltoinkohtelusta?",
    "is": "Hvernig eiga fagaðilar að bregðast við þegar barn segir frá ofbeldi?",
    "lv": "Kā speciālistiem jārīkojas, ja bērns stāsta par vardarbību?",
    "lt": "Kaip specialistai turėtų elgtis, kai vaikas papasakoja apie smurtą?",
    "nb": "Hvordan bør fagfolk reagere når et barn forteller om overgrep?",
    "pl": "Jak specjaliści powinni reagować, gdy dziecko mówi o przemocy?",
    "sv": "Hur ska yrkesverksamma agera när ett barn berättar om övergrepp?",
    "uk": "Як фахівцям діяти, коли дитина розповідає про насильство?",
}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def test_detector_is_built_lazily():
    assert LanguageDetector()._detector is None


@pytest.mark.parametrize("locale", LOCALES)
def test_detects_a_short_question(locale, detector):
    fallback = "de" if locale == "en" else "en"
    assert detector.detect(QUESTIONS[locale], fallback=fallback) == locale


@pytest.mark.parametrize("text", ["Barnahus Stockholm", "hello", "", "112?"])
def test_short_messages_get_the_fallback(text, detector):
    assert detector.detect(text, fallback="pl") == "pl"


def test_close_languages_keep_the_chosen_one(detector):
    # Danish written this way is nearly as likely Bokmål: the Danish interface keeps Danish.
    assert detector.detect("Hvor kan jeg ringe hen, hvis jeg er bekymret for et barn?", fallback="da") == "da"


@pytest.mark.parametrize("text", ["four words and \udcff a lone surrogate", "line one\nline two\nline three\nfour",
                                  "\x00\x01\x02 \x7f control characters only here", "🙂 🙂 🙂 🙂 🙂"])
def test_odd_text_gets_a_language_or_the_fallback_never_an_error(text, detector):
    assert detector.detect(text, fallback="pl") in LOCALES
