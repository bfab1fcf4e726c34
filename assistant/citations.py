"""Citations, and every piece of document or user text that is shown as Markdown.

Document text is not trusted: a corpus page may hold ``<script>``, ``<img onerror=…>``, a
``javascript:`` link or Markdown that would turn a title into a second link. Everything taken
from a document or typed by a user goes through ``escape_markdown`` before it is put into an
answer, and only ``http``/``https`` addresses become links (``web_link``). The chat, the HTTP
API and the CLI all print the Markdown made here. The quote itself stays the exact substring of
its source (``Quote.text``): escaping is for display only, and a CommonMark renderer shows the
escaped text as the original characters.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import quote, urlsplit

from .i18n import Translator, format_date, language_name
from .text import one_line
from .types import Quote

__all__ = ["escape_markdown", "web_link", "link", "citation_line", "block_quote", "sources", "source_list"]

# Characters with a meaning anywhere in a CommonMark/GFM line (emphasis, code, links, inline
# HTML, strikethrough, table cells); every ASCII punctuation character may be backslash-escaped.
_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&lt;" in a document must show as those four characters
# What starts a block at the beginning of a line: heading, quote, list item, rule, setext line.
_BLOCK_START = re.compile(r"^([ \t]*)(#|[-+]|\d{1,9}[.)])", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Kept literally in a link destination; everything else (spaces, quotes, brackets) is percent-encoded.
_URL_SAFE = ":/?#@!$&*+,;=%~-._"


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders as exactly these characters (on one logical line each).

    Control and bidirectional-override characters are dropped: they can hide or reorder what a
    reader sees, in a browser and in a terminal."""
    text = _CONTROL.sub("", text)
    text = _INLINE.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    # "1. x" stays a sentence: the list marker's dot (or bracket) is escaped, not the number.
    return _BLOCK_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def web_link(url: str) -> str:
    """``url`` made safe for a Markdown link when it is an ``http(s)`` address with a host; else ''."""
    url = (url or "").strip()
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return quote(url, safe=_URL_SAFE)


# A text fragment names the quote by its first and last words when it is long (the spec's
# "start,end" form keeps the URL short and still matches the whole passage).
_FRAGMENT_WORDS = 4


def _directive_part(words: list[str]) -> str:
    # Percent-encoded as the text-fragment spec requires: "-", "," and "&" have meanings there.
    return quote(" ".join(words), safe="").replace("-", "%2D")


def text_fragment(text: str) -> str:
    """``:~:text=…`` that makes a browser open a page scrolled to ``text`` and highlight it."""
    words = one_line(text).split(" ")
    if len(words) <= 2 * _FRAGMENT_WORDS:
        return ":~:text=" + _directive_part(words)
    return ":~:text=" + _directive_part(words[:_FRAGMENT_WORDS]) + "," + _directive_part(words[-_FRAGMENT_WORDS:])


def quote_url(source_url: str, text: str, *, copy_of_source: bool, page: int | None = None, anchor: str = "") -> str:
    """The link that opens the source at the quote: a PDF at its page, an HTML page at the
    quoted words (and heading). A document written from its source (a note) links the page plainly."""
    if not web_link(source_url):
        return ""
    base = source_url.split("#", 1)[0]
    if not copy_of_source:
        return source_url
    if page is not None:
        return f"{base}#page={page}"
    return f"{base}#{quote(anchor, safe='')}{text_fragment(text)}"


def link(text: str, url: str) -> str:
    """``[text](url)`` with the text escaped, or the escaped text alone when ``url`` is no web link."""
    shown = escape_markdown(one_line(text))
    target = web_link(url)
    return f"[{shown}]({target})" if target and shown else shown


def citation_line(quote: Quote, tr: Translator) -> str:
    """"— [Title](link), Section, page 3 · language" for one quote."""
    c = quote.citation
    parts = [link(c.title or quote.doc_id, c.url or c.source_url)]
    if c.section and c.section != c.title:
        parts.append(escape_markdown(one_line(c.section)))
    if c.page is not None:
        parts.append(tr.gettext("page {page}").format(page=c.page))
    if c.date:
        parts.append(tr.gettext("as of {date}").format(date=format_date(c.date, tr.locale)))
    lang = language_name(quote.language, tr.locale)
    return "— " + ", ".join(parts) + (f" · {lang}" if lang else "")


def block_quote(quote: Quote, tr: Translator) -> str:
    """The quote as a Markdown block quote (escaped, on one line) followed by its citation."""
    return f"> {escape_markdown(one_line(quote.text))}\n>\n> {citation_line(quote, tr)}"


def sources(quotes: Iterable[Quote]) -> list[tuple[str, str]]:
    """(title, link) of each document the quotes come from, in their order, each once."""
    seen: dict[str, tuple[str, str]] = {}
    for q in quotes:
        seen.setdefault(q.citation.source_url or q.doc_id, (q.citation.title or q.doc_id, q.citation.source_url))
    return list(seen.values())


def source_list(pairs: Iterable[tuple[str, str]]) -> str:
    """A Markdown list with one linked title per (title, link) pair."""
    return "\n".join(f"- {link(title, url)}" for title, url in pairs)
