"""The vector store: the only module that imports chromadb.

Three collections per index: ``<name>`` holds chunks, ``<name>-sentences`` holds every sentence
of every chunk (for choosing the sentences to quote without embedding at question time),
``<name>-census`` the index's census (one record). Chroma's raw result dicts never leave this
module: callers get Chunks, (id, similarity) pairs, arrays and the Census.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar
from urllib.parse import urlparse

import numpy as np

from .census import Census
from .config import Settings
from .embeddings import Embedder
from .errors import EmbedderMismatchError, StoreError
from .types import Chunk

_BATCH = 256  # records per write
_PAGE = 5000  # records per paged read
_IDS = 1000  # ids per get-by-ids (SQLite binds each id as a variable)
_CENSUS_ID = "census"
# HNSW search breadth: at Chroma's default (100) the nearest 96 of the shipped corpus missed
# 0.9 of the true nearest per dev question; at 400, none of the true nearest 24. Chroma's
# other HNSW defaults stay (more neighbours cost a third of the insert speed and were not needed).
_HNSW = {"ef_search": 400}
log = logging.getLogger(__name__)
T = TypeVar("T")


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
        "doc_sha256": chunk.doc_sha256, "quotable": chunk.quotable, "date": chunk.date,
        "copy_of_source": chunk.copy_of_source, "anchor": chunk.anchor,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def _chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id, doc_id=meta["doc_id"], text=text, start=int(meta["start"]), end=int(meta["end"]),
        title=meta.get("title", ""), language=meta.get("language", ""), source_url=meta.get("source_url", ""),
        section=meta.get("section", ""), page=meta.get("page"), doc_sha256=meta.get("doc_sha256", ""),
        quotable=bool(meta.get("quotable", True)), date=meta.get("date", ""),
        copy_of_source=bool(meta.get("copy_of_source", False)), anchor=meta.get("anchor", ""),
    )


class ChunkStore:
    """Chunks and sentences in Chroma, embedded or behind a ``chroma run`` server."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client: Any = None
        self._chunks: Any = None
        self._sentences: Any = None
        self._census: Any = None
        # Ids are hashes of their content, so a record read once stays right until a rebuild.
        self._recent_chunks: _Recent[Chunk] = _Recent(2048)
        self._recent_vectors: _Recent[np.ndarray] = _Recent(8192)

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
                configuration={"hnsw": {"space": "cosine", **_HNSW}},
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
        if int(((collection.configuration or {}).get("hnsw") or {}).get("ef_search") or 0) < _HNSW["ef_search"]:
            collection.modify(configuration={"hnsw": {"ef_search": _HNSW["ef_search"]}})  # an older index
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

    @property
    def census(self) -> Any:
        if self._census is None:  # one small record, not embedded by the model
            client = self._client_or_open()
            name = self.settings.collection + "-census"
            try:
                self._census = client.get_or_create_collection(name=name, embedding_function=None)
            except Exception as exc:
                raise StoreError(f"Could not open the Chroma collection {name!r}: {exc}.") from exc
        return self._census

    def reset(self) -> None:
        """Delete the collections (for ``--rebuild``)."""
        client = self._client_or_open()
        for suffix in ("", "-sentences", "-census"):
            try:
                client.delete_collection(self.settings.collection + suffix)
            except Exception:  # noqa: BLE001 - absent collection is fine
                pass
        self._chunks = self._sentences = self._census = None
        self.forget()

    # -- reading -------------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Chroma's own errors (a server gone away, a locked file) as a StoreError that says what to do."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            where = self.settings.chroma_url or str(self.settings.data_dir / "chroma")
            hint = "Check that `chroma run` is up." if self.settings.chroma_url else "Check the data directory."
            raise StoreError(f"The Chroma index at {where} could not be read: {exc}. {hint}") from exc

    def count(self) -> int:
        with self._reading():
            return int(self.chunks.count())

    def held_chunks(self) -> dict[str, str]:
        """Chunk id → document id of everything in the index (read page by page)."""
        return self._held(self.chunks)

    def held_sentences(self) -> dict[str, str]:
        return self._held(self.sentences)

    def _held(self, collection: Any) -> dict[str, str]:
        return {i: m.get("doc_id", "") for page in self._pages(collection, ["metadatas"])
                for i, m in zip(page["ids"], page["metadatas"])}

    def chunk_pages(self, *, vectors: bool = False) -> Iterator[tuple[list[Chunk], np.ndarray]]:
        """Every chunk, a page at a time, with its vector when asked (else an empty array)."""
        include = ["documents", "metadatas", "embeddings"] if vectors else ["documents", "metadatas"]
        for page in self._pages(self.chunks, include):
            chunks = [_chunk_from(i, d, m) for i, d, m in zip(page["ids"], page["documents"], page["metadatas"])]
            yield chunks, np.asarray(page["embeddings"], dtype=np.float32) if vectors else np.zeros(0, dtype=np.float32)

    def _pages(self, collection: Any, include: list[str]) -> Iterator[dict[str, Any]]:
        # One unpaged get binds every id as an SQL variable: past 32,766 records SQLite refuses.
        offset = 0
        while True:
            with self._reading():
                page = collection.get(include=include, limit=_PAGE, offset=offset)
            if page["ids"]:
                yield page
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self._get_by_ids(self.sentences, self._recent_vectors, sentence_ids, ["embeddings"],
                                lambda got: {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])})

    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids that the index holds, in no particular order."""
        return list(self._get_by_ids(self.chunks, self._recent_chunks, ids, ["documents", "metadatas"],
                                     lambda got: {i: _chunk_from(i, d, m) for i, d, m
                                                  in zip(got["ids"], got["documents"], got["metadatas"])}).values())

    def _get_by_ids(self, collection: Any, recent: "_Recent[T]", ids: Sequence[str], include: list[str],
                    convert: Callable[[dict[str, Any]], dict[str, T]]) -> dict[str, T]:
        """id → record for the ids the index holds: from ``recent`` when read lately, else read in batches."""
        found, missing = recent.split(ids)
        for batch in _batches(missing, _IDS):
            with self._reading():
                read = convert(collection.get(ids=batch, include=include))
            recent.put(read)
            found.update(read)
        return found

    def forget(self) -> None:
        """Drop the records read recently (another process rebuilt the index under the same ids)."""
        self._recent_chunks.clear()
        self._recent_vectors.clear()

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest chunks as (id, cosine similarity), nearest first; fewer when the
        index is smaller. Ids and distances only: reading documents and metadata for every
        candidate cost more than the search itself."""
        with self._reading():
            got = self.chunks.query(query_embeddings=[vector.tolist()], n_results=k, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    def read_census(self) -> Census | None:
        """The census the last ingest wrote; None for an index built before there was one."""
        with self._reading():
            got = self.census.get(ids=[_CENSUS_ID], include=["documents"])
        if not got["ids"]:
            return None
        try:
            return Census.from_json(got["documents"][0])
        except (ValueError, KeyError, TypeError):
            log.warning("the index census is unreadable; it will be counted again")
            return None

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

    def write_census(self, census: Census) -> None:
        # Not a vector: the record's one-number embedding only satisfies Chroma.
        self._upsert(self.census, [_CENSUS_ID], [census.to_json()], [{"builder": census.builder}],
                     np.ones((1, 1), dtype=np.float32))

    def delete_chunks(self, ids: Iterable[str]) -> None:
        self._delete(self.chunks, list(ids))

    def delete_sentences(self, ids: Iterable[str]) -> None:
        self._delete(self.sentences, list(ids))

    @staticmethod
    def _delete(collection: Any, ids: list[str]) -> None:
        for batch in _batches(ids, _BATCH):
            collection.delete(ids=batch)


class _Recent(Generic[T]):
    """The records read most recently, by id, at most ``size`` of them; safe across threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def split(self, ids: Iterable[str]) -> tuple[dict[str, T], list[str]]:
        """(the records held, the ids not held), each id once."""
        found: dict[str, T] = {}
        missing: list[str] = []
        with self._lock:
            for i in dict.fromkeys(ids):
                if i in self._items:
                    self._items.move_to_end(i)
                    found[i] = self._items[i]
                else:
                    missing.append(i)
        return found, missing

    def put(self, items: dict[str, T]) -> None:
        with self._lock:
            self._items.update(items)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
