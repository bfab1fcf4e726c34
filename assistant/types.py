"""Dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A span of a document's text with its heading and/or page number."""

    start: int
    end: int
    title: str = ""
    page: int | None = None
    anchor: str = ""  # the id the page gives this heading (HTML), so a link can open there


@dataclass(frozen=True)
class Document:
    """A cleaned source document. ``text`` is what every offset and quote refers to."""

    doc_id: str  # path relative to the corpus root, with forward slashes
    title: str
    language: str  # ISO 639-1 code
    source_url: str
    text: str
    sections: tuple[Section, ...] = ()
    kind: str = "guidance-note"
    sha256: str = ""  # of the source file's bytes
    # False: the text before the first heading (a note's "this is a summary…" preface) is part
    # of the document but never quoted as an answer. Front matter or manifest ``quote_preface``.
    quote_preface: bool = True
    date: str = ""  # YYYY-MM-DD: as of when the text holds (front matter ``date``, a page's Last-Modified)
    # True when the page at source_url holds this very text (a fetched page, a saved copy), so a
    # link can open that page at the quoted words; False for a note written from it.
    copy_of_source: bool = False


@dataclass(frozen=True)
class SourceRow:
    """One document of the index, as ``assistant sources`` lists it."""

    source: str  # the web address of a fetched page, else the corpus file
    doc_id: str
    title: str
    language: str
    kind: str
    chunks: int
    fetched: str = ""  # web pages: when the last sync asked for it (UTC, ISO 8601)
    changed: str = ""  # when its content last changed (a page's fetch that found it new; a file's mtime)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences from one document; ``text == document.text[start:end]``."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str
    language: str
    source_url: str
    section: str = ""
    page: int | None = None
    doc_sha256: str = ""
    quotable: bool = True  # False for a preface its document asks not to quote
    date: str = ""  # the document's (see Document)
    copy_of_source: bool = False  # the document's (see Document)
    anchor: str = ""  # the section's (see Section)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score (higher is better) and the parts it came from."""

    chunk: Chunk
    score: float
    dense: float | None = None  # cosine similarity, when the dense retriever found it
    lexical: float | None = None  # BM25 score, when the lexical retriever found it


@dataclass(frozen=True)
class Citation:
    title: str
    source_url: str  # the document's page
    section: str = ""
    page: int | None = None
    url: str = ""  # the page opened at the quote (text fragment, #page=, heading anchor); else source_url
    date: str = ""  # YYYY-MM-DD, shown as "as of …" in the reader's language


@dataclass(frozen=True)
class Quote:
    """One sentence quoted verbatim: ``text == document.text[start:end]``."""

    text: str
    doc_id: str
    chunk_id: str
    start: int
    end: int
    language: str
    score: float
    citation: Citation
    doc_sha256: str = ""  # of the source file the offsets refer to (feedback names it)


@dataclass(frozen=True)
class Helpline:
    country: str  # ISO 3166-1 alpha-2, e.g. "SE"
    name: str
    number: str
    chat: str = ""  # a chat address beside the number, e.g. "1717.is"
    also: str = ""  # a second number, e.g. "0 800 500 225"
    own_name: str = ""  # the name the service uses in its own language, where the table's is English

    def display_name(self, locale: str) -> str:
        """The service's own name for a reader in its country's language, else the table's."""
        from .i18n import country_for_locale  # types stays free of imports at module level

        return self.own_name if self.own_name and country_for_locale(locale) == self.country else self.name


@dataclass(frozen=True)
class SafeguardingNotice:
    """Shown first when a message signals a child in danger. Numbers come from data, never from text."""

    emergency: str
    helplines: tuple[Helpline, ...]  # all of them, the chosen country's first
    country: str | None = None
    matched: tuple[str, ...] = ()  # names of the rules that fired (never the message text)
    harm: str = ""  # the harm category the detector saw (logged; never the text)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a chat, used to resolve follow-up questions."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Answer:
    """The assistant's reply. ``text`` is the whole reply rendered in ``locale`` (Markdown)."""

    question: str
    locale: str  # language of the framing (question's language, else UI language)
    detected_language: str | None
    quotes: tuple[Quote, ...]
    abstained: bool
    text: str
    notice: SafeguardingNotice | None = None
    relevance: float = 0.0
    hits: tuple[Hit, ...] = field(default=(), repr=False)
    unavailable: bool = False  # the documents could not be read (a store that went away): not an abstention
    timings: dict[str, float] = field(default_factory=dict, repr=False, compare=False)  # stage → seconds
