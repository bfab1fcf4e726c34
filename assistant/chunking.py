"""Document → sentence spans → chunks of whole sentences, with offsets into the document text.

Pure functions: no model, no store. A chunk's ``text`` is always ``document.text[start:end]``,
so every quote taken from it can be traced back to its exact place.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterator

from .types import Chunk, Document, Section

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before whitespace
# and an upper-case letter, digit or opening quote; or at a blank line / line break before a
# heading-like line. Abbreviations that must not end a sentence are checked separately.
_END = re.compile(r"""[.!?…]+["'”’»)\]]*(?=\s+["'“„«(\[]?[\d\w])""", re.UNICODE)
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "no", "nr", "art", "st", "prof", "approx",
    "z.b", "bzw", "ca", "vgl", "u.a", "d.h", "s", "jf", "bl.a", "t.ex", "f.eks", "mm", "np", "tj",
    "ds", "p", "pkt", "ust", "ok", "esim", "ks", "nt", "jne", "vrt", "pvz", "plg", "utt", "t.d",
}


# A period after digits is an ordinal, not a sentence end, when a lower-case word follows ("den
# 3. marts", "1998. gadā", "3. maaliskuuta") or a German month ("am 20. November 1989").
_AFTER_DIGIT = re.compile(r"\d\.\s+(\w+)")
_GERMAN_MONTHS = {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                  "Oktober", "November", "Dezember"}


def _is_ordinal(text: str, end: int) -> bool:
    """True when the period at ``end - 1`` follows digits and starts an ordinal date or number."""
    found = _AFTER_DIGIT.match(text, max(0, end - 2))
    return found is not None and (found.group(1)[0].islower() or found.group(1) in _GERMAN_MONTHS)


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period at ``end - 1`` closes a known abbreviation or a single initial."""
    word = re.search(r"([\w.]+)\.$", text[max(0, end - 12):end])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


_LIST_ITEM = re.compile(r"\s*(?:[•·‣▪*+–-]|\d{1,2}[.)])\s")
_WRAPPED_LINE = 50  # a line this long without end punctuation was wrapped (PDF, e-mail), not a heading


def _continues(line: str, following: str) -> bool:
    """True when the line break between ``line`` and ``following`` is inside a sentence.

    PDF and wrapped text break lines mid-sentence; headings and list items are lines of
    their own. So a break joins when the line does not end a sentence and either the next
    line starts in lower case or the line is as long as wrapped text is."""
    line, following = line.rstrip(), following.lstrip()
    if not line or not following or _LIST_ITEM.match(following) or re.search(r"[.!?…:;]['\"”’»)\]]*$", line):
        return False
    return following[0].islower() or len(line.strip()) >= _WRAPPED_LINE


def _runs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of the runs of lines that belong together (see ``_continues``)."""
    lines = [(start + m.start(), start + m.end()) for m in re.finditer(r"[^\n]+", text[start:end])]
    i = 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[j + 1][0] == lines[j][1] + 1 and _continues(
                text[lines[j][0]:lines[j][1]], text[lines[j + 1][0]:lines[j + 1][1]]):
            j += 1
        yield lines[i][0], lines[j][1]
        i = j + 1


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in ``text[start:end]``, whitespace trimmed.

    Blank lines, headings and list items separate sentences; a sentence that runs across a
    line break (PDF and HTML text) stays one sentence, so a quote never starts mid-sentence.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for run_start, run_end in _runs(text, start, end):
        run = text[run_start:run_end]
        cut = 0
        for match in _END.finditer(run):
            stop = match.end()
            if run[match.start()] == "." and (_is_abbreviation(run, match.start() + 1)
                                              or _is_ordinal(run, match.start() + 1)):
                continue
            spans.append((run_start + cut, run_start + stop))
            cut = stop
        spans.append((run_start + cut, run_start + len(run)))
    trimmed = []
    for s, e in spans:
        while s < e and (text[s].isspace() or text[s] in "•·‣▪*-–"):  # list bullets are not quoted
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and any(ch.isalnum() for ch in text[s:e]):
            trimmed.append((s, e))
    return trimmed


def _section_at(sections: tuple[Section, ...], offset: int) -> Section | None:
    for section in sections:
        if section.start <= offset < section.end:
            return section
    return None


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable id from the source, the offsets and the text: same content → same id."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return digest[:32]


def _section_ranges(document: Document) -> Iterator[tuple[int, int, Section | None]]:
    if not document.sections:
        yield 0, len(document.text), None
        return
    for section in document.sections:
        yield section.start, section.end, section


def chunk_document(document: Document, *, size: int = 800, overlap: int = 1) -> list[Chunk]:
    """Cut a document into chunks of whole sentences of about ``size`` characters.

    Chunks never cross a section (or page) boundary; neighbouring chunks in a section share
    ``overlap`` sentences so a passage cut in two is still found whole in one of them.
    """
    chunks: list[Chunk] = []
    first_heading = min((s.start for s in document.sections if s.title), default=len(document.text))
    for sec_start, sec_end, section in _section_ranges(document):
        sentences = split_sentences(document.text, sec_start, sec_end)
        i = 0
        while i < len(sentences):
            j = i + 1
            while j < len(sentences) and sentences[j][1] - sentences[i][0] <= size:
                j += 1
            start, end = sentences[i][0], sentences[j - 1][1]
            text = document.text[start:end]
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(document.doc_id, start, end, text),
                    doc_id=document.doc_id,
                    text=text,
                    start=start,
                    end=end,
                    title=document.title,
                    language=document.language,
                    source_url=document.source_url,
                    section=section.title if section else "",
                    page=section.page if section else None,
                    doc_sha256=document.sha256,
                    quotable=document.quote_preface or start >= first_heading,
                    date=document.date,
                    copy_of_source=document.copy_of_source,
                    anchor=section.anchor if section else "",
                )
            )
            if j >= len(sentences):
                break
            i = max(j - overlap, i + 1)
    return chunks


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans of a chunk, as offsets into its document's text."""
    return [(chunk.start + s, chunk.start + e) for s, e in split_sentences(chunk.text)]
