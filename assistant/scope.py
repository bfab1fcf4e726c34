"""Whether the corpus answers a question, or the question is only about the same people.

"How much child benefit do parents get?" is about children, so the corpus scores it almost
as high as a question it answers. Three things separate the two (see Calibration):
- ``relevance``: the best similarity of a retrieved passage (the old, single signal);
- ``spread``: how far the best sentence stands above the other sentences retrieved: an
  answered question has one sentence that fits, a near-domain one fits many a little;
- ``nearness``: how close the question is to examples of questions this corpus does not
  answer (the deployment's ``out-of-scope-examples.jsonl`` beside the corpus, when it has one);
- ``lift``: relevance minus the question's mean similarity to the whole corpus (from the
  census). Its fitted weight is negative: at the same relevance, a question that sits closer
  to the corpus as a whole (its subjects, not one passage) is more often one it answers.
A logistic read-out of the four, fitted on the dev split by ``evaluation/tune.py``, decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibration import CALIBRATION, Calibration
from .embeddings import Embedder, cached_query_vectors, top_mean
from .errors import ConfigError
from .retrieval import Retrieval

EXAMPLES_FILE = "out-of-scope-examples.jsonl"
NEIGHBOURS = 5


@dataclass(frozen=True)
class ScopeFeatures:
    relevance: float
    spread: float
    nearness: float  # mean similarity of the closest out-of-scope examples (0 without a bank)
    lift: float = 0.0  # relevance minus the question's mean similarity to every chunk


def load_examples(path: Path) -> list[str]:
    """The example questions of the file; a malformed line is a ConfigError naming ``file:line``."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(str(json.loads(line)["text"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: expected a JSON object with a \"text\" ({exc}).") from exc
    return out


class Scope:
    """Decides answer or abstain from a retrieval and the question's vector."""

    def __init__(self, vectors: np.ndarray | None, calibration: Calibration = CALIBRATION) -> None:
        self.vectors = None if vectors is None or not len(vectors) else np.asarray(vectors, dtype=np.float32)
        self.calibration = calibration

    @classmethod
    def load(cls, corpus_dir: Path, embedder: Embedder, cache_dir: Path | None,
             calibration: Calibration = CALIBRATION) -> "Scope":
        path = Path(corpus_dir) / EXAMPLES_FILE
        if not path.is_file():
            return cls(None, calibration)
        return cls(cached_query_vectors(load_examples(path), embedder, cache_dir, "out-of-scope"), calibration)

    def features(self, retrieval: Retrieval, vector: np.ndarray | None) -> ScopeFeatures:
        top = {h.chunk.chunk_id for h in retrieval.hits[:self.calibration.scope_hits]}
        sims = [s.similarity for s in retrieval.sentences if s.chunk.chunk_id in top]
        spread = max(sims) - float(np.mean(sims)) if sims else 0.0
        nearness = 0.0
        if self.vectors is not None and vector is not None:
            near = self.vectors @ np.asarray(vector, dtype=np.float32)
            nearness = top_mean(near, min(NEIGHBOURS, len(near)))
        return ScopeFeatures(relevance=retrieval.relevance, spread=spread, nearness=nearness,
                             lift=retrieval.relevance - retrieval.corpus_similarity)

    def score(self, features: ScopeFeatures) -> float:
        """Log-odds that the corpus answers (the read-out fitted on dev)."""
        c = self.calibration
        return (c.scope_bias + c.scope_relevance * features.relevance + c.scope_spread * features.spread
                + c.scope_nearness * features.nearness + c.scope_lift * features.lift)

    def answers(self, retrieval: Retrieval, vector: np.ndarray | None, min_relevance: float) -> bool:
        """True when the corpus answers: relevance at least the operator's floor and, with a bank
        and a vector (not for BM25 alone), the read-out at least 0."""
        if retrieval.relevance < min_relevance:
            return False
        if self.vectors is None or vector is None:
            return True
        return self.score(self.features(retrieval, vector)) >= 0.0
