"""Retrieval → Answer: whole sentences quoted verbatim with a citation each, or an abstention.

Nothing here writes a fact: the only text that is not a quote is the translated framing
(from the Babel catalogues) and citation data (titles, links) taken from the documents.
Every quote is ``document.text[start:end]`` of the sentence it came from.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache

from .calibration import CALIBRATION, Calibration
from .config import Settings
from .citations import block_quote, quote_url, source_list, sources
from .i18n import Translator, format_number
from .lexical import Tokenizer
from .question import asks_for, carries
from .retrieval import Retrieval, ScoredSentence, names_and_numbers, word_set
from .types import Answer, Citation, Quote, SafeguardingNotice

_MIN_SENTENCE_CHARS = 25


def _is_quotable(sentence: ScoredSentence) -> bool:
    text = sentence.text
    if len(text) < _MIN_SENTENCE_CHARS or not re.search(r"[.!?…:;)\"”»]$", text):
        return False  # headings, list labels and fragments read badly alone
    return sentence.chunk.quotable


def _terms(question: str) -> set[str]:
    return {t for t in word_set(names_and_numbers(question)) if len(t) > 1}


_TOKENIZER = Tokenizer()


@lru_cache(maxsize=8192)
def _forms(text: str, language: str) -> frozenset[str]:
    """Every content word of ``text`` and its stem in ``language``, as BM25 matches them."""
    return frozenset(form for pair in _TOKENIZER.word_forms(text, language) for form in pair)


def _overlap(question: list[tuple[str, str]], sentence: ScoredSentence) -> float:
    """The share of the question's content words the sentence holds, as written or as a stem
    ("weszła w życie?" finds "weszła w życie 2 września 1990", not "przyjęta 20 listopada")."""
    if not question:
        return 0.0
    forms = _forms(sentence.text, sentence.chunk.language)
    return sum(1 for word, stem in question if word in forms or stem in forms) / len(question)


def choose_quotes(retrieval: Retrieval, settings: Settings, *, user_language: str,
                  calibration: Calibration = CALIBRATION) -> list[Quote]:
    """The 1–``max_quotes`` best sentences, at most ``max_quotes_per_doc`` per document,
    grouped by document and in source order within a document. Documents in the asker's
    language come first, then the best document first."""
    c = calibration
    terms = _terms(retrieval.query)
    question_words = _TOKENIZER.word_forms(retrieval.query, user_language) if c.overlap_bonus else []
    wanted = asks_for(retrieval.query)
    rank_of = {h.chunk.chunk_id: i for i, h in enumerate(retrieval.hits)}
    shift = retrieval.language_shift

    def score(s: ScoredSentence) -> float:
        bonus = -c.sentence_lang_alpha * shift.get(s.chunk.language, 0.0)
        if s.chunk.language == user_language:
            bonus += c.language_bonus
        elif s.chunk.language != "en":
            bonus -= c.other_language_penalty
        bonus += c.term_bonus * len(terms & word_set(s.text))
        if carries(wanted, s.text):
            bonus += c.type_bonus
        if question_words:
            bonus += c.overlap_bonus * _overlap(question_words, s)
        return s.similarity + bonus - c.rank_penalty * rank_of.get(s.chunk.chunk_id, 10)

    seen: set[tuple[str, int]] = set()
    candidates = []
    for s in sorted((s for s in retrieval.sentences if _is_quotable(s)), key=score, reverse=True):
        if (s.doc_id, s.start) not in seen:  # overlapping chunks hold the same sentence twice
            seen.add((s.doc_id, s.start))
            candidates.append(s)
    if not candidates:
        return []
    best = score(candidates[0])
    chosen: list[ScoredSentence] = []
    per_doc: dict[str, int] = {}
    for s in candidates:
        if len(chosen) >= settings.max_quotes or score(s) < best - c.quote_margin:
            break
        if per_doc.get(s.doc_id, 0) >= settings.max_quotes_per_doc:
            continue
        if any(float(s.vector @ o.vector) > c.redundant for o in chosen if s.vector.size and o.vector.size):
            continue
        per_doc[s.doc_id] = per_doc.get(s.doc_id, 0) + 1
        chosen.append(s)
    # A Latvian question gets the Latvian sentence first when one is good enough to quote.
    doc_order = list(dict.fromkeys(s.doc_id for s in sorted(chosen, key=lambda s: s.chunk.language != user_language)))
    chosen.sort(key=lambda s: (doc_order.index(s.doc_id), s.start))
    return [
        Quote(text=s.text, doc_id=s.doc_id, chunk_id=s.chunk.chunk_id, start=s.start, end=s.end,
              language=s.chunk.language, score=round(score(s), 4), doc_sha256=s.chunk.doc_sha256,
              citation=Citation(title=s.chunk.title, source_url=s.chunk.source_url,
                                section=s.chunk.section, page=s.chunk.page, date=s.chunk.date,
                                url=quote_url(s.chunk.source_url, s.text, copy_of_source=s.chunk.copy_of_source,
                                              page=s.chunk.page, anchor=s.chunk.anchor)))
        for s in chosen
    ]


def render_answer(quotes: list[Quote], tr: Translator, *, notice_md: str = "", help_line: str = "") -> str:
    """Markdown: safety notice, framing, one block quote per quote with its citation, sources.

    Without quotes: after a notice, one calm line (the notice already says where help is);
    otherwise the abstention, what the assistant can help with, and ``help_line``."""
    blocks = [notice_md] if notice_md else []
    if not quotes:
        if notice_md:
            blocks.append(tr.gettext("The people at these numbers are there to listen and to help you."))
            return "\n\n".join(blocks)
        blocks.append(tr.gettext("I could not find an answer to this in the documents I have."))
        blocks.append(tr.gettext(
            "I can help with questions about child protection in the Baltic Sea region: Barnahus, "
            "laws against corporal punishment, children's rights, children in transnational cases, "
            "and where to get help."))
        if help_line:
            blocks.append(help_line)
        return "\n\n".join(blocks)
    blocks.append(tr.gettext("This is what the documents say, quoted word for word:"))
    blocks += [block_quote(q, tr) for q in quotes]
    documents = sources(quotes)
    heading = tr.ngettext("{n} source", "{n} sources", len(documents)).format(n=format_number(len(documents), tr.locale))
    blocks.append(f"**{heading}**\n" + source_list(documents))
    return "\n\n".join(blocks)


def compose_answer(question: str, retrieval: Retrieval, settings: Settings, tr: Translator, *,
                   detected_language: str | None, notice: SafeguardingNotice | None,
                   notice_md: str = "", help_line: str = "", answerable: bool | None = None,
                   timings: dict[str, float] | None = None) -> Answer:
    """Quote when the corpus answers; otherwise abstain (a notice is shown either way).

    ``answerable`` is the scope's decision (``scope.Scope``); without one, relevance below
    ``min_relevance`` abstains. ``notice_md`` is the rendered notice (when there is one),
    ``help_line`` the line that ends every abstention without a notice. ``timings`` (stage →
    seconds) gets the sentence choice and the rendering added and travels on the Answer."""
    timings = dict(timings or {})
    started = time.perf_counter()
    if answerable is None:
        answerable = retrieval.relevance >= settings.min_relevance
    abstained = not answerable
    quotes = [] if abstained else choose_quotes(retrieval, settings, user_language=tr.locale)
    chosen = time.perf_counter()
    text = render_answer(quotes, tr, notice_md=notice_md, help_line=help_line)
    timings.update(sentences=chosen - started, rendering=time.perf_counter() - chosen)
    return Answer(
        question=question, locale=tr.locale, detected_language=detected_language, quotes=tuple(quotes),
        abstained=not quotes, text=text, notice=notice, relevance=round(retrieval.relevance, 4),
        hits=tuple(retrieval.hits), timings=timings,
    )


def unavailable_answer(question: str, tr: Translator, *, detected_language: str | None,
                       notice: SafeguardingNotice | None, notice_md: str, help_line: str) -> Answer:
    """The documents cannot be read just now: say so, and still show the notice or where help is."""
    blocks = [notice_md] if notice_md else []
    blocks.append(tr.gettext("The documents are unavailable for a moment, so I cannot quote them now. "
                             "Please try again in a few minutes."))
    blocks.append(help_line)
    return Answer(question=question, locale=tr.locale, detected_language=detected_language, quotes=(),
                  abstained=True, text="\n\n".join(b for b in blocks if b), notice=notice, unavailable=True)
