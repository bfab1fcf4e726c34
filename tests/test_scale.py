"""What lets a question cost the same at any index size: paged reads, the census, top-k candidates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embeddings import E5Embedder
from assistant.store import ChunkStore
from assistant.types import Chunk
from conftest import PROJECT

SQLITE_VARIABLES = 32766  # one unpaged get of more records than this fails in Chroma's SQLite


def dev_questions(per_language: int = 4) -> list[str]:
    out = []
    for path in sorted((PROJECT / "evaluation" / "sets").glob("in-scope-??.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out += [r["question"] for r in rows if "question" in r][:per_language]
    return out


def full_scan(store: ChunkStore, vector: np.ndarray) -> list[tuple[str, str, float]]:
    """(id, language, cosine) of every chunk, read page by page: what the old retriever did per question."""
    return [(c.chunk_id, c.language, float(v @ vector)) for chunks, vectors in store.chunk_pages(vectors=True)
            for c, v in zip(chunks, vectors)]


def test_every_read_is_paged_past_sqlite_variable_limit(tmp_path):
    store = ChunkStore(Settings(data_dir=tmp_path / "data"), E5Embedder())  # vectors given: the model never loads
    n = SQLITE_VARIABLES + 1000
    rng = np.random.default_rng(7)
    for first in range(0, n, 5000):
        chunks = [Chunk(chunk_id=f"c{i}", doc_id=f"d{i // 10}", text=f"text {i}", start=0, end=6, title="t",
                        language="en" if i % 2 else "de", source_url="") for i in range(first, min(n, first + 5000))]
        vectors = rng.standard_normal((len(chunks), 384)).astype(np.float32)
        store.add_chunks(chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    assert store.count() == n
    held = store.held_chunks()
    assert len(held) == n and held["c12345"] == "d1234"
    assert sum(len(chunks) for chunks, _ in store.chunk_pages()) == n
    assert len(store.get_chunks([f"c{i}" for i in range(n)])) == n
    assert len(store.nearest(vectors[0], 50)) == 50
    store.delete_chunks(list(held))
    assert store.count() == 0


def test_language_correction_and_mean_similarity_from_the_census_are_those_over_every_chunk(shipped_assistant):
    census = shipped_assistant.index_census()
    assert census.total == shipped_assistant.store.count()
    for vector in shipped_assistant.embedder.embed_queries(dev_questions(1)):
        scan = full_scan(shipped_assistant.store, vector)
        overall = np.mean([cos for _, _, cos in scan])
        assert census.mean_similarity(vector) == pytest.approx(overall, abs=1e-6)  # the scope's lift uses it
        for language, offset in census.offsets(vector, 0.5).items():
            mean = np.mean([cos for _, lang, cos in scan if lang == language])
            assert offset == pytest.approx(0.5 * (mean - overall), abs=1e-6)


def test_dense_candidates_from_top_k_equal_those_of_a_full_scan(shipped_assistant):
    retriever, census = shipped_assistant.retriever, shipped_assistant.index_census()
    for vector in shipped_assistant.embedder.embed_queries(dev_questions()):
        offset = census.offsets(vector, retriever.calibration.lang_alpha)
        everything = shipped_assistant.store.nearest(vector, census.total)  # one query for every chunk
        scan = sorted(everything, key=lambda h: h[1] - offset[retriever.lexical.language_of(h[0])], reverse=True)
        candidates = retriever._dense_candidates(vector, offset)
        assert len(candidates) == 24 and candidates == scan[:24]
