"""The scope read-out: answer or abstain from relevance, spread and nearness (pure parts,
synthetic vectors), and the examples file's errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.calibration import CALIBRATION
from assistant.errors import ConfigError
from assistant.retrieval import Retrieval, ScoredSentence
from assistant.scope import Scope, load_examples
from assistant.types import Chunk


def _retrieval(similarities: list[float]) -> Retrieval:
    chunk = Chunk(chunk_id="c", doc_id="d.md", text="x", start=0, end=1, title="T", language="en", source_url="")
    sentences = [ScoredSentence("d.md", chunk, 0, 1, "x", s) for s in similarities]
    return Retrieval(query="q", language="en", hits=[], relevance=max(similarities), sentences=sentences)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_without_examples_only_the_floor_decides() -> None:
    scope = Scope(None)
    assert scope.answers(_retrieval([0.85, 0.80]), np.ones(4, dtype=np.float32), 0.80)
    assert not scope.answers(_retrieval([0.79, 0.70]), np.ones(4, dtype=np.float32), 0.80)


def test_a_question_near_the_examples_abstains_and_a_far_one_answers() -> None:
    rng = np.random.default_rng(0)
    topic = rng.normal(size=16)
    examples = np.stack([_unit(topic + 0.1 * rng.normal(size=16)) for _ in range(10)])  # one topic, as e5 puts them
    scope = Scope(examples)
    retrieval = _retrieval([0.88, 0.82, 0.81, 0.80])  # answered-looking relevance and spread
    near = _unit(topic)
    far = _unit(rng.normal(size=16))
    assert scope.features(retrieval, near).nearness > 0.95 > scope.features(retrieval, far).nearness
    assert scope.answers(retrieval, far, CALIBRATION.min_relevance)
    assert not scope.answers(retrieval, near, CALIBRATION.min_relevance)
    assert scope.answers(retrieval, None, CALIBRATION.min_relevance)  # BM25 alone: the floor only


def test_a_broken_examples_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "out-of-scope-examples.jsonl"
    path.write_text('{"text": "Kindergeld?"}\n{"txt": "oops"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"out-of-scope-examples.jsonl:2"):
        load_examples(path)
