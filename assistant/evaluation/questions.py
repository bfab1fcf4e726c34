"""Known-question sets: the JSONL format (version 1), loading, checking against the corpus.

The format is documented in ``evaluation/README.md``. Every set names its split in its
header: ``dev`` (what constants may be chosen on) or ``test`` (written first, never tuned on).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import LOCALES, PROJECT_ROOT
from ..errors import EvaluationError
from ..exemplars import HARMS
from . import metrics as m

FORMAT = "cbss-questions"
FORMAT_VERSION = 1
KINDS = ("in_scope", "out_of_scope", "danger", "safe")
SPLITS = ("dev", "test")  # dev: what may be tuned on; test: written first, never tuned on
DEFAULT_SETS_DIR = PROJECT_ROOT / "evaluation" / "sets"
FACT_FORMS_FILE = PROJECT_ROOT / "evaluation" / "fact-forms.json"
ALSO_ANSWERED_FILE = PROJECT_ROOT / "evaluation" / "also-answered.json"
_FIELDS = {"id", "language", "question", "kind", "expected_docs", "expected_passage",
           "expected_facts", "follow_up", "country", "harm", "note"}
_ID = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Question:
    """One line of a question set (see evaluation/README.md)."""

    id: str
    language: str
    question: str
    kind: str
    expected_docs: tuple[str, ...] = ()
    expected_passage: str = ""
    expected_facts: tuple[str, ...] = ()
    follow_up: tuple[str, ...] = ()
    country: str | None = None
    harm: str = ""  # danger messages: one of exemplars.HARMS
    split: str = "dev"  # from the set's header
    source: str = ""  # "file:line", for messages

    @property
    def has_target(self) -> bool:
        """Whether retrieval can be scored (an expected passage or document)."""
        return bool(self.expected_passage or self.expected_docs)

    @property
    def also_answered_by(self) -> tuple[tuple[str, str], ...]:
        """(doc id, passage) of the other documents that answer it (``also_answered``)."""
        return also_answered().get(self.id, ())

    @property
    def answering_docs(self) -> tuple[str, ...]:
        """The expected documents and the others that answer it."""
        return tuple(dict.fromkeys([*self.expected_docs, *(doc for doc, _ in self.also_answered_by)]))

    @property
    def fact_alternatives(self) -> tuple[tuple[str, ...], ...]:
        """Each expected fact with the other forms the corpus writes it in (``fact_forms``)."""
        forms = fact_forms()
        return tuple((fact, *forms.get(fact, ())) for fact in self.expected_facts)


def _evaluation_file(path: Path, key: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))[key]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{path}: cannot read its `{key}` ({exc}); see evaluation/README.md.") from exc


@functools.cache
def also_answered(path: Path = ALSO_ANSWERED_FILE) -> dict[str, tuple[tuple[str, str], ...]]:
    """Question id -> (doc id, passage) of documents that answer it besides its own label.

    Each question was labelled with one passage, mostly before the guidance notes in every
    language existed; a chunk holding one of these passages is as relevant as the labelled one.
    Empty when the file is absent."""
    if not path.is_file():
        return {}
    table = _evaluation_file(path, "answers")
    try:
        return {qid: tuple((row["doc"], row["passage"]) for row in rows) for qid, rows in table.items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise EvaluationError(f"{path}: every answer is {{\"doc\": ..., \"passage\": ...}} ({exc}).") from exc


@functools.cache
def fact_forms(path: Path = FACT_FORMS_FILE) -> dict[str, tuple[str, ...]]:
    """Expected fact -> the other forms of the same fact in the corpus's languages
    ("Article 19" -> "Artikel 19", "artikla 19", ...): a Danish answer that quotes the Danish
    note states the fact as well as the English one. Empty when the file is absent."""
    if not path.is_file():
        return {}
    forms = _evaluation_file(path, "forms")
    if not all(isinstance(v, list) and all(isinstance(f, str) and f.strip() for f in v) for v in forms.values()):
        raise EvaluationError(f"{path}: every fact maps to a list of non-empty strings; see evaluation/README.md.")
    return {fact: tuple(v) for fact, v in forms.items()}


# ---------------------------------------------------------------- loading and checking

def _string_list(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"`{name}` must be a list of non-empty strings")
    return tuple(value)


def _parse_question(obj: Any) -> Question:
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    unknown = sorted(set(obj) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    for name in ("id", "language", "question", "kind"):
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            raise ValueError(f"`{name}` is required and must be a non-empty string")
    if not _ID.match(obj["id"]):
        raise ValueError(f"`id` {obj['id']!r} may only use letters, digits, '.', '_' and '-'")
    if obj["language"] not in LOCALES:
        raise ValueError(f"`language` {obj['language']!r} is not one of {' '.join(LOCALES)}")
    if obj["kind"] not in KINDS:
        raise ValueError(f"`kind` {obj['kind']!r} is not one of {', '.join(KINDS)}")
    passage = obj.get("expected_passage", "")
    if not isinstance(passage, str):
        raise ValueError("`expected_passage` must be a string")
    docs = _string_list(obj.get("expected_docs", []), "expected_docs")
    facts = _string_list(obj.get("expected_facts", []), "expected_facts")
    follow_up = _string_list(obj.get("follow_up", []), "follow_up")
    country = obj.get("country")
    if country is not None and not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)):
        raise ValueError("`country` must be an ISO 3166-1 alpha-2 code in capitals, e.g. \"SE\"")
    harm = obj.get("harm", "")
    if obj["kind"] == "danger" and harm not in ("", *HARMS):
        raise ValueError(f"`harm` {harm!r} is not one of {', '.join(HARMS)}")
    if obj["kind"] != "danger" and harm:
        raise ValueError("only danger messages have a `harm`")
    if obj["kind"] == "in_scope" and not (passage.strip() and docs):
        raise ValueError("an in_scope question needs `expected_docs` and a non-empty `expected_passage`")
    if obj["kind"] in ("out_of_scope", "safe") and (passage or docs or facts):
        raise ValueError(f"a{'n' if obj['kind'][0] == 'o' else ''} {obj['kind']} question has no `expected_docs`, `expected_passage` or `expected_facts`")
    if any(d.startswith("/") or "\\" in d for d in docs):
        raise ValueError("`expected_docs` are corpus-relative paths with '/', e.g. \"notes/barnahus.en.md\"")
    return Question(id=obj["id"], language=obj["language"], question=obj["question"], kind=obj["kind"],
                    expected_docs=docs, expected_passage=passage.strip(), expected_facts=facts,
                    follow_up=follow_up, country=country, harm=harm)


def load_question_set(path: Path) -> list[Question]:
    """Read and validate one JSONL set; errors name ``file:line`` and what to fix."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot read the question set ({exc}).") from exc
    questions: list[Question] = []
    seen: dict[str, int] = {}
    header_seen = False
    split = "dev"
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}).") from exc
        if not header_seen:
            header_seen = True
            if not isinstance(obj, dict) or obj.get("format") != FORMAT:
                raise EvaluationError(
                    f'{where}: the first line must be the header {{"format": "{FORMAT}", "version": {FORMAT_VERSION}}}.'
                )
            if obj.get("version") != FORMAT_VERSION:
                raise EvaluationError(
                    f"{where}: format version {obj.get('version')!r} is not supported; this assistant reads version {FORMAT_VERSION}."
                )
            split = obj.get("split", "dev")
            if split not in SPLITS:
                raise EvaluationError(f"{where}: `split` {split!r} is not one of {', '.join(SPLITS)}.")
            continue
        try:
            question = _parse_question(obj)
        except ValueError as exc:
            raise EvaluationError(f"{where}: {exc}.") from exc
        if question.id in seen:
            raise EvaluationError(f"{where}: id {question.id!r} is already used on line {seen[question.id]}.")
        seen[question.id] = number
        questions.append(Question(**{**asdict(question), "split": split, "source": where}))
    if not header_seen:
        raise EvaluationError(f"{path}: the file is empty; it needs at least the header line.")
    return questions


def load_question_sets(paths: Sequence[Path], *, limit: int | None = None) -> list[Question]:
    """Load several sets (at most ``limit`` questions of each); ids must be unique across them."""
    questions: list[Question] = []
    where: dict[str, str] = {}
    for path in paths:
        for q in load_question_set(path)[:limit]:
            if q.id in where:
                raise EvaluationError(f"{q.source}: id {q.id!r} is already used at {where[q.id]}.")
            where[q.id] = q.source
            questions.append(q)
    return questions


def default_sets() -> list[Path]:
    """Every ``evaluation/sets/*.jsonl`` of the project, sorted."""
    return sorted(DEFAULT_SETS_DIR.glob("*.jsonl"))


def check_passages(questions: Sequence[Question], texts: Mapping[str, str]) -> list[str]:
    """Problems with expected docs/passages against the corpus (empty list: all fine)."""
    problems: list[str] = []
    for q in questions:
        missing = [d for d in q.expected_docs if d not in texts]
        if missing:
            problems.append(f"{q.source} ({q.id}): expected doc(s) not in the corpus: {', '.join(missing)}")
        if q.expected_passage:
            pool = [texts[d] for d in q.expected_docs if d in texts] if q.expected_docs else list(texts.values())
            if not any(m.contains_passage(t, q.expected_passage) for t in pool):
                problems.append(f"{q.source} ({q.id}): expected passage not found: {q.expected_passage!r}")
        for doc, passage in q.also_answered_by:
            if not m.contains_passage(texts.get(doc, ""), passage):
                problems.append(f"{q.source} ({q.id}): the passage that also answers it is not in {doc}: {passage!r}")
    return problems
