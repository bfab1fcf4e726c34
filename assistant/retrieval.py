"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by reciprocal rank, then MMR.

Dense relevance of a chunk is the mean of the chunk's cosine and its best sentence's cosine:
a chunk whose one sentence answers the question ranks above a chunk that is vaguely on topic
throughout. For questions not in English, BM25 sees only the names and numbers of the
question (Barnahus, UNCRC, 116 111, 1979): ordinary words match only notes in the question's
own language, which outweighed better cross-lingual passages when all words were used.
Dense scores are also corrected for the model's preference for the question's own language
(see ``Calibration.lang_alpha``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .chunking import chunk_sentences
from .calibration import CALIBRATION, Calibration
from .census import Census
from .config import Settings
from .embeddings import Embedder
from .ingestion import sentence_id
from .lexical import LexicalIndex
from .store import ChunkStore
from .text import lower_words
from .types import Chunk, Hit

RRF_K = 60
_CANDIDATES = 24
# Chunks read by cosine before the language correction re-ranks them. On the dev questions
# the corrected top 24 lay inside the nearest 96 for 83% of questions and inside 384 for all.
_DENSE_FETCH = 96
_MAX_FETCH = 1536
_NAME_OR_NUMBER = re.compile(r"\b(?:\w*\d[\w/.-]*|[A-ZÄÖÅÆØÜŁŚŻŹĆŃÓĘĄ][\w-]{2,}|[A-Z]{2,})\b")


@dataclass
class ScoredSentence:
    doc_id: str
    chunk: Chunk
    start: int
    end: int
    text: str
    similarity: float
    vector: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))


@dataclass
class Retrieval:
    """Ranked hits for one question, with what the answer needs to choose sentences."""

    query: str
    language: str
    hits: list[Hit]
    relevance: float  # confidence that the corpus answers the question (dense scale)
    sentences: list[ScoredSentence] = field(default_factory=list)  # of the top hits, best first
    # Per language: the question's mean similarity to that language's chunks minus its mean over
    # all chunks (the census's view of the model's language preference for this question).
    language_shift: dict[str, float] = field(default_factory=dict)
    corpus_similarity: float = 0.0  # the question's mean similarity to every chunk (census; 0 without one)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def names_and_numbers(text: str) -> str:
    """The capitalised names, acronyms and numbers of a question (first word excepted if lower)."""
    words = _NAME_OR_NUMBER.findall(text)
    first = text.strip().split(" ", 1)[0].strip("¿?¡!,.:;\"'")
    return " ".join(w for w in words if not (w == first and not any(ch.isdigit() for ch in w)))


@lru_cache(maxsize=8192)
def word_set(text: str) -> frozenset[str]:
    """The lower-cased words of a text (for overlap measures, no stemming); cached, as the same
    chunks and sentences come back question after question."""
    return frozenset(lower_words(text))


@lru_cache(maxsize=4096)
def _spans(chunk: Chunk) -> tuple[tuple[str, int, int, str], ...]:
    """(sentence id, start, end, text) of every sentence of a chunk (pure, so cached by chunk)."""
    out = []
    for start, end in chunk_sentences(chunk):
        text = chunk.text[start - chunk.start:end - chunk.start]
        out.append((sentence_id(chunk.doc_id, start, end, text), start, end, text))
    return tuple(out)


class Retriever:
    def __init__(self, settings: Settings, store: ChunkStore, lexical: LexicalIndex, embedder: Embedder,
                 calibration: Calibration = CALIBRATION) -> None:
        self.settings = settings
        self.calibration = calibration
        self.store = store
        self.lexical = lexical
        self.embedder = embedder

    def search(self, query: str, *, language: str, census: Census | None, k: int | None = None,
               mode: str | None = None, context: str = "", vector: np.ndarray | None = None) -> Retrieval:
        """Rank chunks for ``query``; ``context`` (an earlier question) is blended in, weaker.

        ``census`` is the index's (for the language correction); ``vector`` is the query's
        embedding when the caller already has it (one model call per message serves
        safeguarding and retrieval)."""
        k = k or self.settings.top_k
        mode = mode or self.settings.retrieval
        qv = None
        if mode != "bm25":
            if vector is None:
                vector = self.embedder.embed_queries([query])[0]
            qv = vector if not context else _unit(vector + self.calibration.context_weight * self.embedder.embed_queries([context])[0])

        shift, overall = {}, 0.0
        if qv is not None and census is not None:
            shift, overall = census.offsets(qv, 1.0), census.mean_similarity(qv)
        offset = {lang: self.calibration.lang_alpha * value for lang, value in shift.items()}
        dense = self._dense_candidates(qv, offset) if qv is not None else []
        terms = f"{query} {context}".strip()
        lexical_query = terms if (language == "en" or mode == "bm25") else names_and_numbers(terms)
        lexical_hits = self.lexical.search(lexical_query, language, _CANDIDATES) if mode != "dense" and lexical_query else []
        if mode == "hybrid":  # weak lexical matches (common words only) are noise next to the dense ranking
            lexical_hits = [(cid, score) for cid, score in lexical_hits if score >= self.calibration.lexical_floor]

        chunk_cos = dict(dense)
        wanted = list(dict.fromkeys([cid for cid, _ in dense] + [cid for cid, _ in lexical_hits]))
        fetched = {c.chunk_id: c for c in self.store.get_chunks(wanted)}  # one read for both retrievers
        chunks = {cid: fetched[cid] for cid in wanted if cid in fetched}
        lexical_score = dict(lexical_hits)

        sentences = self._sentences(list(chunks.values()), qv, query, language)
        best_sentence: dict[str, float] = {}
        for s in sentences:
            best_sentence[s.chunk.chunk_id] = max(best_sentence.get(s.chunk.chunk_id, -1.0), s.similarity)

        dense_score, raw_score = {}, {}
        if qv is not None:
            for cid in chunks:
                if cid not in chunk_cos:  # found only by BM25: its best sentence puts it on the same scale
                    chunk_cos[cid] = best_sentence.get(cid, 0.0)
                raw_score[cid] = 0.5 * chunk_cos[cid] + 0.5 * best_sentence.get(cid, chunk_cos[cid])
                dense_score[cid] = raw_score[cid] - offset.get(chunks[cid].language, 0.0)
                if chunks[cid].language not in (language, "en"):  # a third language: read by fewer askers
                    dense_score[cid] -= self.calibration.third_language_penalty

        fused: dict[str, float] = {}
        for rank, cid in enumerate(sorted(dense_score, key=dense_score.get, reverse=True)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(lexical_hits):
            fused[cid] = fused.get(cid, 0.0) + self.calibration.lexical_weight / (RRF_K + rank + 1)

        ranked = self._mmr(sorted(fused, key=fused.get, reverse=True), chunks, fused, k, self.calibration.mmr_lambda)
        hits = [Hit(chunk=chunks[cid], score=fused[cid], dense=dense_score.get(cid), lexical=lexical_score.get(cid))
                for cid in ranked]
        relevance = max(raw_score.values(), default=0.0) if qv is not None else min(1.0, max(lexical_score.values(), default=0.0) / 10)
        top_ids = {h.chunk.chunk_id for h in hits[:self.calibration.sentence_hits]}
        return Retrieval(query=query, language=language, hits=hits, relevance=relevance, language_shift=shift,
                         corpus_similarity=overall,
                         sentences=sorted((s for s in sentences if s.chunk.chunk_id in top_ids),
                                          key=lambda s: s.similarity, reverse=True))

    def _dense_candidates(self, qv: np.ndarray, offset: dict[str, float]) -> list[tuple[str, float]]:
        """The top (chunk id, cosine) after the language correction ``offset`` (per language).

        The correction comes from the census (one dot product per language) and each chunk's
        language from the lexical index, so a question reads only ids and distances of its
        nearest chunks, whatever the size of the index: first ``_DENSE_FETCH``, more only when
        a chunk beyond them could still enter the corrected top."""
        best_lift = -min(offset.values(), default=0.0)  # the most the correction can raise a chunk

        def corrected(hit: tuple[str, float]) -> float:
            return hit[1] - offset.get(self.lexical.language_of(hit[0]), 0.0)

        fetch = _DENSE_FETCH
        while True:
            nearest = self.store.nearest(qv, fetch)
            ranked = sorted(nearest, key=corrected, reverse=True)
            if len(nearest) < fetch or fetch >= _MAX_FETCH or nearest[-1][1] + best_lift < corrected(ranked[_CANDIDATES - 1]):
                return ranked[:_CANDIDATES]  # nothing unread can overtake the corrected top
            fetch *= 4

    def _sentences(self, chunks: list[Chunk], qv: np.ndarray | None, query: str, language: str) -> list[ScoredSentence]:
        """Every sentence of the chunks, scored by cosine (or, for BM25 alone, by the share of
        the question's words it contains)."""
        spans = [(sid, chunk, start, end, text) for chunk in chunks for sid, start, end, text in _spans(chunk)]
        if qv is None:
            words = set(self.lexical.tokenize(query, language))
            return [ScoredSentence(c.doc_id, c, st, en, t, len(words & set(self.lexical.tokenize(t, c.language))) / max(1, len(words)))
                    for _, c, st, en, t in spans]
        vectors = self.store.sentence_vectors([s[0] for s in spans])
        out = []
        for sid, chunk, start, end, text in spans:
            if sid in vectors:
                out.append(ScoredSentence(chunk.doc_id, chunk, start, end, text, float(vectors[sid] @ qv), vectors[sid]))
        return out

    @staticmethod
    def _mmr(order: list[str], chunks: dict[str, Chunk], score: dict[str, float], k: int, mmr_lambda: float) -> list[str]:
        """Maximal marginal relevance with word overlap as similarity: no near-duplicate passages."""
        if not order:
            return []
        top = score[order[0]]
        tokens = {cid: word_set(chunks[cid].text) for cid in order}
        overlap = dict.fromkeys(order, 0.0)  # each candidate's largest overlap with a chosen passage
        chosen: list[str] = []
        for _ in range(min(k, len(order))):
            best, best_value = None, -1e9
            for cid in order:
                if cid in chosen or overlap[cid] > 0.8:  # chosen, or a near-copy of a chosen passage
                    continue
                value = mmr_lambda * score[cid] / top - (1 - mmr_lambda) * overlap[cid]
                if value > best_value:
                    best, best_value = cid, value
            if best is None:
                break
            chosen.append(best)
            for cid in order:  # only the new passage can raise an overlap
                shared = len(tokens[cid] & tokens[best])
                if shared:
                    overlap[cid] = max(overlap[cid], shared / len(tokens[cid] | tokens[best]))
        return chosen
