"""Ingest: corpus files → documents → chunks and sentences → embeddings → store (+ BM25).

Idempotent and incremental by construction: chunk and sentence ids are hashes of their
source, offsets and text, so the wanted set of ids is computed from the files (cheap) and
compared with what the store holds. Only missing ids are embedded; ids no longer wanted are
deleted. New records are written before old ones are removed and in small batches, so a run
killed at any point leaves an index that the next run completes, with no duplicates and no
orphans. A file lock keeps two ingests from running at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from .census import Census, Tally, builder_version
from .chunking import chunk_document, chunk_sentences
from .config import Settings
from .errors import IngestError, LoaderError
from .lexical import LexicalIndex
from .loaders import iter_corpus_files, load_document, load_manifest
from .mirror import DOC_PREFIX, Mirror
from .sources import load_sources
from .store import ChunkStore, SentenceRecord
from .types import Chunk, Document

log = logging.getLogger(__name__)
_EMBED_BATCH = 16  # small batches: a killed run loses at most one batch of work


@dataclass
class IngestReport:
    """What an ingest did; ``failed`` lists (file, reason) of files that were skipped."""

    files: int = 0
    documents: int = 0
    chunks: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    sentences_added: int = 0
    sentences_removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.chunks_added or self.chunks_removed or self.sentences_added or self.sentences_removed)

    def summary(self) -> str:
        lines = [
            f"{self.files} files, {self.documents} documents, {self.chunks} chunks in the index; "
            f"embedded {self.chunks_added} new chunks and {self.sentences_added} sentences, "
            f"removed {self.chunks_removed} chunks, in {self.seconds:.1f} s."
        ]
        for path, reason in self.failed:
            lines.append(f"skipped {path}: {reason}")
        return "\n".join(lines)


def sentence_id(doc_id: str, start: int, end: int, text: str) -> str:
    return hashlib.sha256(f"s\x00{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()[:32]


def sentence_records(chunks: Sequence[Chunk], text_of: dict[str, str]) -> dict[str, SentenceRecord]:
    """Every sentence of the chunks, once, keyed by its stable id."""
    records: dict[str, SentenceRecord] = {}
    for chunk in chunks:
        text = text_of[chunk.doc_id]
        for start, end in chunk_sentences(chunk):
            sid = sentence_id(chunk.doc_id, start, end, text[start:end])
            records[sid] = SentenceRecord(sid, chunk.doc_id, start, end, text[start:end], chunk.language)
    return records


def corpus_documents(root: Path, mirror: Path | None = None) -> dict[str, Document]:
    """doc id → every readable document of the corpus (and of the web sources' mirror)."""
    documents, _, _ = load_corpus(root, mirror=mirror)
    return {d.doc_id: d for d in documents}


def corpus_texts(root: Path) -> dict[str, str]:
    """doc id → text of every readable document (what quote offsets and expected passages refer to)."""
    return {doc_id: d.text for doc_id, d in corpus_documents(root).items()}


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestError(f"Another ingest is running on {data_dir}; wait for it to finish and try again.") from exc
        yield


def load_corpus(root: Path, paths: Sequence[Path] | None = None, *, mirror: Path | None = None,
                progress: bool = False) -> tuple[list[Document], list[tuple[str, str]], int]:
    """Load the given files/folders, or every source: the folders ``sources.yaml`` lists (else
    the corpus folder) and the pages in the web ``mirror``. Unreadable files are reported, not fatal."""
    jobs: list[tuple[Path, Path, dict, str]] = []  # file, its root, the root's manifest, id prefix
    manifest = load_manifest(root) if root.is_dir() else {}
    if paths:
        for p in paths:
            if not p.exists():
                raise IngestError(f"{p} does not exist; give files or folders of documents.")
            for path in iter_corpus_files(p) if p.is_dir() else [p]:
                jobs.append((path, root if path.resolve().is_relative_to(root.resolve()) else path.parent, manifest, ""))
    else:
        if not root.is_dir():
            raise IngestError(f"The corpus folder {root} does not exist; set ASSISTANT_CORPUS_DIR.")
        files = dict.fromkeys(f for folder in load_sources(root).folders for f in iter_corpus_files(folder))
        jobs += [(path, root, manifest, "") for path in files]
        if mirror is not None and mirror.is_dir():
            pages = load_manifest(mirror)  # a file the manifest does not name yet is a sync's unfinished work
            jobs += [(path, mirror, pages, DOC_PREFIX) for path in iter_corpus_files(mirror)
                     if path.relative_to(mirror).as_posix() in pages]
    documents, failed = [], []
    from tqdm import tqdm

    for path, file_root, file_manifest, prefix in tqdm(jobs, desc="Reading files", unit="file", disable=not progress):
        try:
            documents.append(load_document(path, root=file_root, manifest=file_manifest, prefix=prefix))
        except LoaderError as exc:
            failed.append((exc.path, exc.reason))
            log.warning("skipped %s: %s", exc.path, exc.reason)
    return documents, failed, len(jobs)


def ingest(settings: Settings, store: ChunkStore, lexical: LexicalIndex, *, paths: Sequence[Path] | None = None,
           rebuild: bool = False, progress: bool = False) -> IngestReport:
    """Bring the index in step with the corpus; see the module docstring for the guarantees."""
    started = time.perf_counter()
    with ingest_lock(settings.data_dir):
        report = IngestReport()
        documents, report.failed, report.files = load_corpus(settings.corpus_dir, paths, mirror=Mirror(settings.data_dir).root,
                                                             progress=progress)
        if rebuild:
            store.reset()
        report.documents = len(documents)
        text_of = {d.doc_id: d.text for d in documents}
        wanted: dict[str, Chunk] = {}
        for document in documents:
            for chunk in chunk_document(document, size=settings.chunk_size, overlap=settings.chunk_overlap):
                wanted[chunk.chunk_id] = chunk
        wanted_sentences = sentence_records(list(wanted.values()), text_of)

        # Replace the chunks of every loaded document; on a full ingest also drop documents whose
        # file is gone. A file that failed to load keeps its old chunks: nothing is lost.
        failed_docs = {p for p, _ in report.failed}  # a LoaderError names a corpus file by its doc id
        loaded = set(text_of)

        def stale(held: dict[str, str], wanted_ids: dict) -> list[str]:
            return [i for i, doc in held.items() if i not in wanted_ids
                    and (doc in loaded if paths else doc not in failed_docs)]

        held_chunks, held_sentences = store.held_chunks(), store.held_sentences()
        new_chunks = [c for cid, c in wanted.items() if cid not in held_chunks]
        new_sentences = [r for sid, r in wanted_sentences.items() if sid not in held_sentences]
        _embed_and_add(store, new_chunks, new_sentences, progress=progress)
        stale_chunks, stale_sentences = stale(held_chunks, wanted), stale(held_sentences, wanted_sentences)
        store.delete_chunks(stale_chunks)
        store.delete_sentences(stale_sentences)
        report.chunks_added, report.sentences_added = len(new_chunks), len(new_sentences)
        report.chunks_removed, report.sentences_removed = len(stale_chunks), len(stale_sentences)

        census = store.read_census()
        if report.changed or rebuild or census is None or census.builder != builder_version():
            census = recount(store, lexical)
        else:
            lexical.follow(census.generation, lambda: store_chunks(store))
        report.chunks = census.total
    report.seconds = time.perf_counter() - started
    log.info("ingest: %s", report.summary().splitlines()[0])
    return report


def store_chunks(store: ChunkStore) -> Iterator[Chunk]:
    """Every chunk in the store, read page by page."""
    for page, _ in store.chunk_pages():
        yield from page


def recount(store: ChunkStore, lexical: LexicalIndex) -> Census:
    """One paged read of every chunk: a new census written beside them, and the BM25 index
    rebuilt under its generation (so other processes on the same store follow)."""
    tally = Tally()

    def chunks() -> Iterator[Chunk]:
        for page, vectors in store.chunk_pages(vectors=True):
            tally.add([c.language for c in page], vectors)
            yield from page

    generation = uuid.uuid4().hex
    lexical.build(chunks(), generation)
    census = tally.census(builder_version(), generation)
    store.write_census(census)
    return census


def _embed_and_add(store: ChunkStore, chunks: list[Chunk], sentences: list[SentenceRecord], *, progress: bool) -> None:
    if not chunks and not sentences:
        return
    from tqdm import tqdm

    with tqdm(total=len(chunks) + len(sentences), desc="Embedding", unit="text", disable=not progress) as bar:
        for i in range(0, len(chunks), _EMBED_BATCH):
            batch = chunks[i:i + _EMBED_BATCH]
            store.add_chunks(batch, store.embedder.embed_passages([c.text for c in batch]))
            bar.update(len(batch))
        for i in range(0, len(sentences), _EMBED_BATCH * 4):
            batch_s = sentences[i:i + _EMBED_BATCH * 4]
            store.add_sentences(batch_s, store.embedder.embed_passages([s.text for s in batch_s]))
            bar.update(len(batch_s))
