"""The vector store: the only module that imports chromadb.

Two collections per index: ``<name>`` holds chunks, ``<name>-sentences`` holds every sentence
of every chunk (for choosing the sentences to quote without embedding at question time).
Chroma's raw result dicts never leave this module: callers get Chunks, Hits and arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .embeddings import Embedder
from .errors import EmbedderMismatchError, StoreError
from .types import Chunk, Hit

_BATCH = 256


@dataclass(frozen=True)
class SentenceRecord:
    """A sentence stored for quoting: ``doc text[start:end] == text``."""

    sentence_id: str
    doc_id: str
    start: int
    end: int
    text: str
    language: str


def _chroma_embedding_function(embedder: Embedder) -> Any:
    """Wrap an Embedder as a registered Chroma embedding function (so reopening works)."""
    from chromadb.api.types import EmbeddingFunction
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class AssistantEmbeddingFunction(EmbeddingFunction):  # type: ignore[type-arg]
        def __init__(self, wrapped: Embedder | None = None, model_name: str = "") -> None:
            self._wrapped = wrapped
            self._model_name = model_name or (wrapped.name if wrapped else "")

        def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
            return list(self._require().embed_passages(list(input)))

        def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
            return list(self._require().embed_queries(list(input)))

        def _require(self) -> Embedder:
            if self._wrapped is None:
                raise StoreError("This collection's embedder is not loaded; open it through the assistant.")
            return self._wrapped

        @staticmethod
        def name() -> str:
            return "cbss-assistant"

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return {"model_name": self._model_name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "AssistantEmbeddingFunction":
            # Built by Chroma when it reads a collection's config; we always pass the live one.
            return AssistantEmbeddingFunction(None, str(config.get("model_name", "")))

    return AssistantEmbeddingFunction(embedder)


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id, "start": chunk.start, "end": chunk.end, "title": chunk.title,
        "language": chunk.language, "source_url": chunk.source_url, "section": chunk.section,
        "doc_sha256": chunk.doc_sha256,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def _chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id, doc_id=meta["doc_id"], text=text, start=int(meta["start"]), end=int(meta["end"]),
        title=meta.get("title", ""), language=meta.get("language", ""), source_url=meta.get("source_url", ""),
        section=meta.get("section", ""), page=meta.get("page"), doc_sha256=meta.get("doc_sha256", ""),
    )


class ChunkStore:
    """Chunks and sentences in Chroma, embedded or behind a ``chroma run`` server."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client: Any = None
        self._chunks: Any = None
        self._sentences: Any = None

    # -- opening -------------------------------------------------------------------------
    def _client_or_open(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings
        except ImportError as exc:  # pragma: no cover - install problem
            raise StoreError("chromadb is not installed: run `make install`.") from exc
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if self.settings.chroma_url:
                url = urlparse(self.settings.chroma_url)
                self._client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https", settings=chroma_settings,
                )
                self._client.heartbeat()
            else:
                path = self.settings.data_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except StoreError:
            raise
        except Exception as exc:
            where = self.settings.chroma_url or str(self.settings.data_dir / "chroma")
            hint = ("Start it with `chroma run --path DIR --host 127.0.0.1 --port 8000` or unset ASSISTANT_CHROMA_URL."
                    if self.settings.chroma_url else "Check that the data directory is writable, or set ASSISTANT_DATA_DIR.")
            self._client = None
            raise StoreError(f"Could not open the Chroma index at {where}: {exc}. {hint}") from exc
        return self._client

    def _collection(self, suffix: str) -> Any:
        client = self._client_or_open()
        name = self.settings.collection + suffix
        try:
            collection = client.get_or_create_collection(
                name=name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.name, "dimension": self.embedder.dimension},
                embedding_function=_chroma_embedding_function(self.embedder),
            )
        except Exception as exc:
            raise StoreError(f"Could not open the Chroma collection {name!r}: {exc}. "
                             "Rebuild the index with `assistant ingest --rebuild`.") from exc
        meta = collection.metadata or {}
        if meta.get("embedder") != self.embedder.name or int(meta.get("dimension", 0)) != self.embedder.dimension:
            raise EmbedderMismatchError(
                f"The index {name!r} was built with {meta.get('embedder')} ({meta.get('dimension')} dimensions), "
                f"not {self.embedder.name} ({self.embedder.dimension}). Rebuild it with `assistant ingest --rebuild`, "
                "or set ASSISTANT_EMBEDDER / ASSISTANT_DATA_DIR back to the ones that built it."
            )
        return collection

    @property
    def chunks(self) -> Any:
        if self._chunks is None:
            self._chunks = self._collection("")
        return self._chunks

    @property
    def sentences(self) -> Any:
        if self._sentences is None:
            self._sentences = self._collection("-sentences")
        return self._sentences

    def reset(self) -> None:
        """Delete both collections (for ``--rebuild``)."""
        client = self._client_or_open()
        for suffix in ("", "-sentences"):
            try:
                client.delete_collection(self.settings.collection + suffix)
            except Exception:  # noqa: BLE001 - absent collection is fine
                pass
        self._chunks = self._sentences = None

    # -- reading -------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.chunks.count())

    def held_chunks(self) -> dict[str, str]:
        """Chunk id → document id of everything in the index."""
        return self._held(self.chunks)

    def held_sentences(self) -> dict[str, str]:
        return self._held(self.sentences)

    @staticmethod
    def _held(collection: Any) -> dict[str, str]:
        held: dict[str, str] = {}
        offset = 0
        while True:
            page = collection.get(include=["metadatas"], limit=5000, offset=offset)
            held.update((i, m.get("doc_id", "")) for i, m in zip(page["ids"], page["metadatas"]))
            if len(page["ids"]) < 5000:
                return held
            offset += 5000

    def all_chunks(self) -> list[Chunk]:
        got = self.chunks.get(include=["documents", "metadatas"])
        return [_chunk_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not sentence_ids:
            return {}
        got = self.sentences.get(ids=list(dict.fromkeys(sentence_ids)), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def query_chunks(self, vector: np.ndarray, k: int) -> list[Hit]:
        """Nearest chunks by cosine similarity (``Hit.dense``)."""
        n = self.count()
        if n == 0:
            return []
        got = self.chunks.query(query_embeddings=[vector.tolist()], n_results=min(k, n),
                                include=["documents", "metadatas", "distances"])
        hits = []
        for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]):
            similarity = 1.0 - float(dist)
            hits.append(Hit(chunk=_chunk_from(i, d, m), score=similarity, dense=similarity))
        return hits

    # -- writing -------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self._upsert(self.chunks, [c.chunk_id for c in chunks], [c.text for c in chunks],
                     [_chunk_metadata(c) for c in chunks], vectors)

    def add_sentences(self, records: Sequence[SentenceRecord], vectors: np.ndarray) -> None:
        self._upsert(self.sentences, [r.sentence_id for r in records], [r.text for r in records],
                     [{"doc_id": r.doc_id, "start": r.start, "end": r.end, "language": r.language} for r in records],
                     vectors)

    @staticmethod
    def _upsert(collection: Any, ids: list[str], docs: list[str], metas: list[dict[str, Any]], vectors: np.ndarray) -> None:
        try:
            for i in range(0, len(ids), _BATCH):
                collection.upsert(ids=ids[i:i + _BATCH], documents=docs[i:i + _BATCH], metadatas=metas[i:i + _BATCH],
                                  embeddings=np.asarray(vectors[i:i + _BATCH], dtype=np.float32))
        except Exception as exc:
            raise StoreError(f"Writing to the Chroma index failed: {exc}. Run the ingest again; it resumes.") from exc

    def delete_chunks(self, ids: Iterable[str]) -> None:
        self._delete(self.chunks, list(ids))

    def delete_sentences(self, ids: Iterable[str]) -> None:
        self._delete(self.sentences, list(ids))

    @staticmethod
    def _delete(collection: Any, ids: list[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            collection.delete(ids=ids[i:i + _BATCH])

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return [_chunk_from(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
