"""Safeguarding: spot messages that signal a child in danger and show helplines first.

Approach
    A hand-written, high-recall rule set per language (en da de et fi is lv lt nb pl sv uk)
    in ``data/safeguarding.yaml``. Every rule is a set of regular expressions; all rules of
    all languages run on every message (a Polish child may type in English, and a short
    message's language is often unknowable). Text and patterns are *folded* the same way
    (case-folded, diacritics stripped, ł→l ø→o æ→ae ð→d þ→th ß→ss, Ukrainian і/ї→i,
    apostrophes unified), so "tėtis mane muša" and "tetis mane musa" match one rule.
    Inflected languages (fi et lt lv pl uk) are covered by listing the verb forms a child
    actually writes ("lyö, löi, hakkaa, hakkas ...") rather than bare stems, which would
    also match unrelated words.

    Disclosures are told apart from professional questions by a first-person or
    present-danger cue next to the danger word: a pronoun (me, mig, mich, mnie, minua, mind,
    mani, mane, мене ...), a first-person verb form (chcę, haluan, noriu, gribu, хочу ...),
    or a possessive family noun ("my dad", "mein Stiefvater", "mój ojczym"). "A child who
    disclosed abuse", "Article 19 ... violence" or "corporal punishment" have none of these
    and never fire.

Limits (recall is preferred to precision; the notice is calm, so a false alarm costs little)
    - A vocabulary, not understanding: paraphrases outside the listed forms are missed
      (e.g. metaphors, slang we did not list, Russian or other languages, heavy misspelling,
      Ukrainian written in Latin letters).
    - A quoted disclosure fires too ("a pupil told me 'my dad hits me'"), and so do some
      idioms (English "mum will kill me", Danish "jeg kan ikke mere", German "ich kann nicht
      mehr"), and verbs that also mean "concern" (sv "rör mig", is "snertir mig",
      et "puudutab mind", lt "liečia mane", uk "торкається мене").
    - Talk about another child is caught when it names a specific person: a possessive
      ("my daughter ... is being abused"), a pronoun object ("her stepdad touches her",
      "slår henne", "ją bije"), or a neighbour cue ("the boy next door has bruises").
      So a professional's "what if a pupil says her father hits her?" fires, while
      "a child told me she is abused" does not.
    - Folding merges some forms (Polish "chcę"/"chce"), so a few third-person sentences
      ("the child says he wants to die") also fire.
The tests list at least ten danger phrasings and ten in-scope questions per language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from .errors import ConfigError
from .types import Helpline, SafeguardingNotice

DATA_DIR = Path(__file__).resolve().parent / "data"
RULES_FILE = "safeguarding.yaml"
HELPLINES_FILE = "helplines.yaml"

# Apostrophe look-alikes first (´ would otherwise decompose into a space and an accent).
_APOSTROPHES = str.maketrans({c: "'" for c in "’‘ʼʹ`´′"})
# Letters that NFKD does not decompose but that people drop when they type without them.
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th",
                          "đ": "d", "ß": "ss", "і": "i"})
_SPACES = re.compile(r"\s+")
_MACRO = re.compile(r"<([A-Z][A-Z0-9]*)>")


def fold(text: str) -> str:
    """Normalise a message for matching: lower case, no diacritics, single spaces."""
    return _SPACES.sub(" ", _fold_letters(text.casefold())).strip()


def _fold_letters(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in text if not unicodedata.combining(c)).translate(_LETTERS)


def _fold_pattern(pattern: str) -> str:
    # Fold the letters but leave escapes alone (casefolding "\W" would turn it into "\w").
    return re.sub(r"\\.|[^\\]+",
                  lambda m: m.group() if m.group().startswith("\\") else _fold_letters(m.group().casefold()),
                  pattern)


@dataclass(frozen=True)
class Rule:
    """A named danger signal (e.g. ``pl.violence``) and its compiled, folded patterns."""

    name: str
    language: str
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, folded: str) -> bool:
        return any(p.search(folded) for p in self.patterns)


class TranslatorLike(Protocol):
    def gettext(self, message: str) -> str: ...


class Safeguarding:
    """Danger detection plus the helplines to show; build with :meth:`load`."""

    def __init__(self, rules: tuple[Rule, ...], emergency: str, helplines: dict[str, Helpline]) -> None:
        self.rules = rules
        self.emergency = emergency
        self._helplines = helplines

    @classmethod
    def load(cls, data_dir: Path | None = None) -> "Safeguarding":
        """Read the rules and helplines from ``data_dir`` (default: the package's data)."""
        data_dir = data_dir or DATA_DIR
        rules = _load_rules(data_dir / RULES_FILE)
        emergency, helplines = _load_helplines(data_dir / HELPLINES_FILE)
        return cls(rules, emergency, helplines)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.language for r in self.rules))

    def rule_counts(self) -> dict[str, int]:
        """Number of rules per language (for reports)."""
        counts: dict[str, int] = {}
        for rule in self.rules:
            counts[rule.language] = counts.get(rule.language, 0) + 1
        return counts

    def detect(self, text: str) -> tuple[str, ...]:
        """Names of the rules that fire on ``text`` (empty when none)."""
        folded = fold(text)
        if not folded:
            return ()
        return tuple(rule.name for rule in self.rules if rule.matches(folded))

    def helplines(self, country: str | None = None) -> tuple[Helpline, ...]:
        """The helpline of ``country`` (ISO code); all of them when unknown or None."""
        code = (country or "").strip().upper()
        if code in self._helplines:
            return (self._helplines[code],)
        return tuple(self._helplines.values())

    def notice_for(self, country: str | None = None, *, matched: tuple[str, ...] = ()) -> SafeguardingNotice:
        """The notice for ``country`` regardless of the message (e.g. to offer it as a link)."""
        code = (country or "").strip().upper()
        return SafeguardingNotice(
            emergency=self.emergency,
            helplines=self.helplines(code or None),
            country=code if code in self._helplines else None,
            matched=matched,
        )

    def notice(self, text: str, *, country: str | None = None) -> SafeguardingNotice | None:
        """A notice when ``text`` signals danger, else None. Never carries the text itself."""
        matched = self.detect(text)
        return self.notice_for(country, matched=matched) if matched else None


def render_notice(notice: SafeguardingNotice, tr: TranslatorLike) -> str:
    """The notice as a calm Markdown block in the translator's language.

    Numbers and names come only from the notice (i.e. from helplines.yaml).
    """
    lines = [
        "**" + tr.gettext("If you or a child is in danger right now, call {emergency}, the emergency number in every EU country, Iceland and Norway.").format(
            emergency=notice.emergency) + "**",
        "",
    ]
    if len(notice.helplines) == 1:
        helpline = notice.helplines[0]
        lines.append(tr.gettext("You can talk to someone at {name}: {number}.").format(
            name=helpline.name, number=_number(helpline, tr)))
    else:
        lines.append(tr.gettext("You can talk to someone at the child helpline of your country:"))
        locale = getattr(tr, "locale", "en")
        for helpline in notice.helplines:
            lines.append(f"- {_country(helpline.country, locale)}: {helpline.name}, {_number(helpline, tr)}")
    lines += ["", tr.gettext("You do not have to deal with this alone.")]
    return "\n".join(lines)


def _number(helpline: Helpline, tr: TranslatorLike) -> str:
    text = f"**{helpline.number}**"
    note = helpline.note.strip()
    if not note:
        return text
    # The two notes in the data are translated; anything else is shown as written.
    if m := re.fullmatch(r"chat (\S+)", note):
        note = tr.gettext("chat: {address}").format(address=m.group(1))
    elif m := re.fullmatch(r"also (.+)", note):
        note = tr.gettext("also {number}").format(number=m.group(1))
    return f"{text} ({note})"


def _country(code: str, locale: str) -> str:
    try:
        from .i18n import country_name  # optional: written by another part of the project
    except ImportError:
        return code
    try:
        return country_name(code, locale) or code
    except Exception:  # an unknown locale must never hide a helpline
        return code


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); restore it from the repository.") from exc


def _load_rules(path: Path) -> tuple[Rule, ...]:
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("languages"), dict):
        raise ConfigError(f"{path}: expected a 'languages' mapping; restore it from the repository.")
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    rules: list[Rule] = []
    for language, entries in data["languages"].items():
        for key, patterns in (entries or {}).items():
            name = f"{language}.{key}"
            if isinstance(patterns, str):
                patterns = [patterns]
            compiled = []
            for raw in patterns:
                source = _MACRO.sub(lambda m: _macro(macros, m.group(1), name), str(raw))
                try:
                    compiled.append(re.compile(_fold_pattern(source), re.IGNORECASE))
                except re.error as exc:
                    raise ConfigError(f"{path}: rule {name}: bad pattern {raw!r} ({exc}).") from exc
            rules.append(Rule(name=name, language=str(language), patterns=tuple(compiled)))
    return tuple(rules)


def _macro(macros: dict[str, str], key: str, rule: str) -> str:
    if key not in macros:
        raise ConfigError(f"{RULES_FILE}: rule {rule} uses <{key}>, which is not under 'macros'.")
    return macros[key]


def _load_helplines(path: Path) -> tuple[str, dict[str, Helpline]]:
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("helplines"), dict) or not data.get("emergency"):
        raise ConfigError(f"{path}: expected 'emergency' and 'helplines'; restore it from the repository.")
    helplines: dict[str, Helpline] = {}
    for code, entry in data["helplines"].items():
        code = "NO" if code is False else str(code).upper()  # YAML 1.1 reads a bare NO as false
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("number"):
            raise ConfigError(f"{path}: helpline {code} needs a name and a number.")
        helplines[code] = Helpline(country=code, name=str(entry["name"]), number=str(entry["number"]),
                                   note=str(entry.get("note") or ""))
    return str(data["emergency"]), helplines
