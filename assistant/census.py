"""The census of an index: how many chunks it holds per language, their mean vector, and what built it.

Retrieval corrects each chunk's cosine for the model's preference for some languages: the
correction is the mean similarity of the question to each language's chunks. That mean is
the question's dot product with the language's mean chunk vector (the vectors are unit
length), so the census holds one sum per language and the question never touches the rest
of the index. Ingest writes it beside the chunks; its ``generation`` changes with every
write, so another process sharing the index (behind ``chroma run``) sees that it must
refresh its lexical index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_BUILDERS = ("loaders.py", "chunking.py", "ingestion.py")  # the code that turns files into chunks and sentences


def builder_version() -> str:
    """A fingerprint of the code that builds chunks and sentences: an index built by another
    version holds sentences this one would not look up, so it must be re-ingested."""
    digest = hashlib.sha256()
    for name in _BUILDERS:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Census:
    """Per language: the number of chunks and the sum of their (unit) vectors."""

    counts: dict[str, int]
    sums: dict[str, np.ndarray] = field(repr=False)
    builder: str = ""
    generation: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def mean_similarity(self, query: np.ndarray) -> float:
        """The mean similarity of ``query`` to every chunk of the index (0 for an empty index)."""
        if not self.total:
            return 0.0
        return float(sum(self.sums.values()) @ np.asarray(query, dtype=np.float64)) / self.total

    def offsets(self, query: np.ndarray, alpha: float) -> dict[str, float]:
        """``alpha`` × (mean similarity of ``query`` to a language's chunks − to all chunks)."""
        if not self.total:
            return {}
        query = np.asarray(query, dtype=np.float64)
        overall = self.mean_similarity(query)
        return {lang: alpha * (float(self.sums[lang] @ query) / n - overall) for lang, n in self.counts.items() if n}

    def to_json(self) -> str:
        return json.dumps({"builder": self.builder, "generation": self.generation, "counts": self.counts,
                           "sums": {lang: v.tolist() for lang, v in self.sums.items()}})

    @classmethod
    def from_json(cls, text: str) -> "Census":
        data = json.loads(text)
        return cls({k: int(v) for k, v in data["counts"].items()},
                   {k: np.asarray(v, dtype=np.float64) for k, v in data["sums"].items()},
                   str(data.get("builder", "")), str(data["generation"]))


class Tally:
    """Counts chunks into a Census as they are read, a page at a time."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.sums: dict[str, np.ndarray] = {}

    def add(self, languages: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float64)
        page = np.asarray(languages)
        for language in set(languages):
            of_language = vectors[page == language]
            self.counts[language] = self.counts.get(language, 0) + len(of_language)
            self.sums[language] = self.sums.get(language, 0.0) + of_language.sum(axis=0)

    def census(self, builder: str, generation: str) -> Census:
        return Census(dict(self.counts), dict(self.sums), builder, generation)
