"""The composition root: ``build_assistant(settings)`` wires every part, lazily.

Nothing heavy happens at construction: the model, Chroma and lingua load on first use, so
``assistant --help`` and the web page start fast.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from .answer import compose_answer, unavailable_answer
from .calibration import CALIBRATION
from .census import Census, builder_version
from .config import LOCALES, Settings
from .crawler import Crawler
from .embeddings import Embedder, QueryBatcher, build_embedder
from .errors import InputError, StoreError
from .i18n import N_, Catalogues, LanguageDetector, country_for_locale, language_name
from .ingestion import IngestReport, corpus_documents, ingest, ingest_lock, recount, store_chunks
from .lexical import LexicalIndex
from .mirror import DOC_PREFIX, Mirror, SyncReport
from .privacy import log_message
from .retrieval import Retrieval, Retriever
from .safeguarding import Detection, Safeguarding, render_notice
from .scope import Scope
from .sources import check_address, host_of, load_sources
from .store import ChunkStore
from .text import words
from .types import Answer, Document, Hit, SourceRow, Turn

log = logging.getLogger(__name__)
_CENSUS_TTL = 2.0  # seconds: how soon an ingest by another process on the same store is followed
_WARM_UP = "What is this about?"
_FOLLOW_UP_WORDS = 12  # a question this short after an earlier turn may lean on it ("And in Sweden?")


def check_message(text: object, max_chars: int) -> str:
    """The message, stripped; InputError (with a translatable msgid) when it is unusable."""
    if not isinstance(text, str):
        raise InputError(N_("The message must be text."))
    if "\x00" in text or sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t") > 2:
        raise InputError(N_("The message contains binary data. Please type your question as text."))
    text = text.strip()
    if not text:
        raise InputError(N_("The message is empty. Please type a question."))
    if len(text) > max_chars:
        raise InputError(N_("The message is too long ({length} characters). Please keep it under {limit} characters."),
                         length=len(text), limit=max_chars)
    return text


@dataclass
class Assistant:
    """The assistant's parts, wired from one Settings object."""

    settings: Settings
    embedder: Embedder = field(init=False)

    def __post_init__(self) -> None:
        self.embedder = build_embedder(self.settings)
        self.store = ChunkStore(self.settings, self.embedder)
        self.lexical = LexicalIndex(self.settings.data_dir / "bm25" / self.settings.collection)
        self.retriever = Retriever(self.settings, self.store, self.lexical, self.embedder)
        self.queries = QueryBatcher(self.embedder)
        self._census: Census | None = None
        self._census_read = -_CENSUS_TTL
        self._census_lock = threading.Lock()
        self._documents: dict[str, Document] = {}
        self._ready = False  # ensure_index has run: the index exists and every part is warm

    @cached_property
    def catalogues(self) -> Catalogues:
        return Catalogues.load()

    @cached_property
    def safeguarding(self) -> Safeguarding:
        # The exemplar bank is embedded by the same model as the messages, cached beside the index.
        return Safeguarding.load(embedder=self.embedder, cache_dir=self.settings.data_dir / "safeguarding")

    @cached_property
    def scope(self) -> Scope:
        # The deployment's examples of questions its corpus does not answer, embedded once; the
        # read-out was fitted on one embedder's scale, so another embedder gets the floor alone.
        if self.settings.embedder != CALIBRATION.scope_embedder:
            return Scope(None)
        return Scope.load(self.settings.corpus_dir, self.embedder, self.settings.data_dir / "scope")

    @cached_property
    def detector(self) -> LanguageDetector:
        return LanguageDetector(LOCALES)

    # -- index ---------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] | None = None, *, rebuild: bool = False, progress: bool = False) -> IngestReport:
        report = ingest(self.settings, self.store, self.lexical, paths=paths, rebuild=rebuild, progress=progress)
        self._census_read = -_CENSUS_TTL  # read the new census on the next question
        self._documents.clear()
        return report

    def sync(self, urls: Sequence[str] = (), sitemaps: Sequence[str] = (), *, progress: bool = False) -> SyncReport | None:
        """Fetch the web sources of ``sources.yaml`` (and ``urls``, ``sitemaps``) into the mirror
        that the next ingest reads; None when there is no web source at all."""
        for address in (*urls, *sitemaps):
            check_address(address, "the command line")
        sources = load_sources(self.settings.corpus_dir)
        mirror = Mirror(self.settings.data_dir)
        if not (sources.urls or sources.sitemaps or urls or sitemaps or mirror.entries()):
            return None
        s = self.settings
        hosts = sources.hosts | mirror.hosts() | {host_of(a) for a in (*urls, *sitemaps)}
        with ingest_lock(s.data_dir), Crawler(hosts, concurrency=s.crawl_concurrency, delay=s.crawl_delay,
                                                timeout=s.crawl_timeout, retries=s.crawl_retries) as crawler:
            return mirror.sync(sources, crawler, urls=urls, sitemaps=sitemaps, progress=progress,
                               detect=lambda text: self.detector.detect(text, fallback=None))

    def sources(self) -> list[SourceRow]:
        """Every document the index holds, with its chunk count and dates."""
        counts = Counter(self.store.held_chunks().values())
        pages = {DOC_PREFIX + name: e for name, e in Mirror(self.settings.data_dir).entries().items()}
        rows = []
        for doc_id, chunks in sorted(counts.items()):
            try:
                d = self.document(doc_id)
            except KeyError:  # its file is gone; the next ingest removes it
                rows.append(SourceRow(doc_id, doc_id, "(no longer in the sources; run assistant ingest)", "", "", chunks))
                continue
            page = pages.get(doc_id)
            if page is not None:
                rows.append(SourceRow(d.source_url, doc_id, d.title, d.language, d.kind, chunks,
                                      str(page.get("fetched", "")), str(page.get("changed", ""))))
            else:
                path = self.settings.corpus_dir / doc_id
                changed = (datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
                           if path.is_file() else "")
                rows.append(SourceRow(doc_id, doc_id, d.title, d.language, d.kind, chunks, changed=changed))
        return rows

    def ensure_index(self, *, progress: bool = False) -> IngestReport | None:
        """Ingest the corpus when the index is empty (first start) or was built by another
        version of the chunker; then warm every part, so the first visitor waits no longer
        than the tenth. Once done, calling it again costs nothing (``serve`` after the CLI's call)."""
        if self._ready:
            return None
        report = None
        if self.store.count() == 0:
            report = self.ingest(progress=progress)
        else:
            census = self.store.read_census()
            if census is None or census.builder != builder_version():
                log.warning("the index was built by another version of the chunker (or before it kept a census): "
                            "ingesting again so that every sentence has its vector; only what changed is embedded")
                report = self.ingest(progress=progress)
        self.warm()
        self._ready = True
        return report

    def warm(self) -> None:
        """Load the model, lingua, the catalogues and Babel's locale data, the example banks and
        the index (by answering once), so that no visitor pays for a first use."""
        _ = self.catalogues, self.safeguarding.bank, self.scope
        for locale in LOCALES:
            language_name(locale, locale)
        self.ask(_WARM_UP)

    def index_census(self) -> Census:
        """The index's census, read again at most every ``_CENSUS_TTL`` seconds; when another
        process has ingested into the same store, the BM25 index follows it here."""
        if time.monotonic() - self._census_read < _CENSUS_TTL and self._census is not None:
            return self._census
        with self._census_lock:  # one thread reads (and maybe rebuilds); the others keep the last one
            if time.monotonic() - self._census_read >= _CENSUS_TTL or self._census is None:
                census = self.store.read_census() or recount(self.store, self.lexical)
                self.lexical.follow(census.generation, lambda: store_chunks(self.store))
                if self._census is not None and census.generation != self._census.generation:
                    self._documents.clear()
                    self.store.forget()
                self._census, self._census_read = census, time.monotonic()
        return self._census

    def document(self, doc_id: str) -> Document:
        """A corpus document as loaded (its text is what quotes' offsets refer to)."""
        if not self._documents:
            self._documents = corpus_documents(self.settings.corpus_dir, Mirror(self.settings.data_dir).root)
        return self._documents[doc_id]

    def document_text(self, doc_id: str) -> str:
        return self.document(doc_id).text

    # -- questions -----------------------------------------------------------------------
    def detect_language(self, text: str, *, fallback: str) -> str:
        return self.detector.detect(text, fallback=fallback) or fallback

    def _message_language(self, text: str, detection: Detection, ui_locale: str) -> str:
        """The message's language; for a message too short for lingua, what the safeguarding
        detectors recognised (so "tata mnie bije" gets its notice in Polish), else the page's."""
        found = self.detector.detect(text, fallback=None)
        if found:
            return found
        languages = detection.languages() if detection.danger else ()
        if ui_locale in languages or not languages:
            return ui_locale
        return languages[0]

    def _retrieve(self, question: str, language: str, history: Sequence[Turn], k: int | None,
                  vector: np.ndarray | None = None) -> Retrieval:
        census = self.index_census()
        alone = self.retriever.search(question, language=language, census=census, k=k, vector=vector)
        if not history or len(words(question)) > _FOLLOW_UP_WORDS:
            return alone
        # A follow-up ("and what about Poland?") may need the previous question's subject: its
        # vector is blended in at a lower weight so the new question's own terms lead. The more
        # confident of the two retrievals wins.
        joined = self.retriever.search(question, language=language, census=census, k=k,
                                       context=history[-1].question, vector=vector)
        return joined if joined.relevance > alone.relevance + 0.005 else alone

    def retrieve(self, question: str, *, k: int | None = None, history: Sequence[Turn] = (),
                 locale: str | None = None) -> list[Hit]:
        question = check_message(question, self.settings.max_message_chars)
        language = self.detect_language(question, fallback=locale or self.settings.default_locale)
        return self._retrieve(question, language, history, k).hits

    def ask(self, question: str, *, locale: str = "en", history: Sequence[Turn] = (), country: str | None = None) -> Answer:
        """Answer in the question's language (else ``locale``) with verbatim quotes, or abstain.

        ``country`` (ISO code) is the reader's explicit choice for the helpline shown first;
        without it, the operator's ASSISTANT_COUNTRY, then the country of the message's
        language, then of the page language."""
        question = check_message(question, self.settings.max_message_chars)
        log_message(log, "question", question, debug=self.settings.debug)
        ui_locale = locale if locale in LOCALES else self.settings.default_locale
        clock = time.perf_counter()
        vector = self.queries.embed(question)  # one embedding serves safeguarding and retrieval
        timings = {"embedding": time.perf_counter() - clock}
        clock = time.perf_counter()
        detection = self.safeguarding.assess(question, vector)
        language = self._message_language(question, detection, ui_locale)
        tr = self.catalogues.translator(language)
        country = country or self.settings.country or country_for_locale(language) or country_for_locale(ui_locale)
        notice = self.safeguarding.notice_for(country, detection=detection) if detection.danger else None
        if notice is not None:
            log.info("safety notice shown (harm: %s)", notice.harm or "unknown")  # never the text
        notice_md = render_notice(notice, tr) if notice else ""
        help_line = self.safeguarding.help_line(country, tr)
        timings["safeguarding"] = time.perf_counter() - clock
        clock = time.perf_counter()
        try:
            retrieval = self._retrieve(question, language, history, None, vector)
        except StoreError as exc:  # the notice and the helpline never depend on the index
            log.warning("answering without the documents: %s", exc)
            return unavailable_answer(question, tr, detected_language=language, notice=notice,
                                      notice_md=notice_md, help_line=help_line)
        dense = self.settings.retrieval != "bm25"  # BM25 alone scores on another scale: the floor only
        answerable = self.scope.answers(retrieval, vector if dense else None, self.settings.min_relevance)
        timings["retrieval"] = time.perf_counter() - clock
        return compose_answer(question, retrieval, self.settings, tr, detected_language=language, notice=notice,
                              notice_md=notice_md, help_line=help_line, answerable=answerable, timings=timings)


def build_assistant(settings: Settings) -> Assistant:
    """Wire the assistant from settings (cheap: heavy parts load on first use)."""
    return Assistant(settings)
