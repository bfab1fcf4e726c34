"""The one citation renderer: document and user text shown as Markdown renders as exactly its
characters (checked with a real CommonMark renderer on random text), and only http(s) links."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from assistant.citations import block_quote, citation_line, escape_markdown, link, source_list, web_link
from assistant.i18n import Catalogues
from assistant.loaders import load_document
from assistant.types import Citation, Quote

# CommonMark with raw HTML on, as a careless embedding page might render /respond's Markdown.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
MARKUP = "\\`*_[]()<>!#+-.|~&;:=\"' \t"  # the characters Markdown and HTML give a meaning to
text_with_markup = st.text(alphabet=st.one_of(st.sampled_from(MARKUP),
                                              st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))),
                           max_size=120)


def _rendered_text(markdown: str) -> str:
    out = RENDERER.render(markdown).strip()
    if not out:
        return ""
    assert out.startswith("<p>") and out.endswith("</p>") and out.count("<") == 2, out
    return html.unescape(out[3:-4])


@settings(max_examples=400, deadline=None, database=None)
@given(text_with_markup)
def test_escaped_text_renders_as_exactly_its_characters(text):
    one_line = " ".join(text.split())
    assert _rendered_text(escape_markdown(one_line)) == one_line


@pytest.mark.parametrize("hostile", [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))",
    "![p](data:text/html;base64,PHNjcmlwdD4=)", "<a href='javascript:alert(1)'>a</a>", "# heading", "1. list",
    "- item", "> quote", "***", "&lt;img src=x onerror=alert(1)&gt;", "<https://evil.example>", "`code`",
])
def test_hostile_text_is_shown_not_obeyed(hostile):
    assert _rendered_text(escape_markdown(hostile)) == hostile


def test_control_and_bidi_characters_are_dropped():
    assert escape_markdown("abc\x1b[31mred\u202etxt.exe\x00") == "abc\\[31mredtxt.exe"


@pytest.mark.parametrize("url, expected", [
    ("https://cbss.org/barnahus/", "https://cbss.org/barnahus/"),
    ("http://example.org/a b", ""),
    ("https://example.org/x_(y)", "https://example.org/x_%28y%29"),
    ("HTTPS://example.org/?q=1&r=\"2\"", "HTTPS://example.org/?q=1&r=%222%22"),
    ("javascript:alert(1)", ""), ("JavaScript:alert(1)", ""), ("data:text/html,<b>", ""), ("vbscript:x", ""),
    ("//example.org/x", ""), ("https:///nohost", ""), ("mailto:a@b.org", ""), ("", ""), ("https://a.org/\n", "https://a.org/"),
])
def test_only_http_and_https_addresses_become_links(url, expected):
    assert web_link(url) == expected


def test_a_title_cannot_inject_a_link():
    shown = link("Guide [click](javascript:alert(1))", "https://cbss.org/")
    html_out = RENDERER.render(shown)
    assert html_out.count("<a ") == 1 and 'href="https://cbss.org/"' in html_out and "javascript" not in html_out.split('">')[0]
    assert link("Guide", "javascript:alert(1)") == "Guide"


def test_citation_and_quote_blocks_escape_every_part():
    tr = Catalogues.load().translator("en")
    quote = Quote(text="Text <img src=x onerror=alert(1)>\nmore.", doc_id="a.md", chunk_id="c", start=0, end=10,
                  language="en", score=1.0,
                  citation=Citation(title="T [x](javascript:y)", source_url="javascript:z", section="<b>S</b>", page=2))
    line = citation_line(quote, tr)
    assert line == "— T \\[x\\](javascript:y), \\<b\\>S\\</b\\>, page 2 · English"
    rendered = RENDERER.render(block_quote(quote, tr))
    assert "<img" not in rendered and "<b>" not in rendered and "href" not in rendered
    assert "Text &lt;img src=x onerror=alert(1)&gt; more." in rendered
    assert source_list([("A <i>", "https://a.org/"), ("B", "data:x")]) == "- [A \\<i\\>](https://a.org/)\n- B"


def test_a_document_with_a_javascript_source_url_is_loaded_without_it(tmp_path: Path, caplog):
    doc = tmp_path / "note.en.md"
    doc.write_text("---\ntitle: Note\nsource_url: javascript:alert(document.cookie)\n---\n\nA sentence.\n")
    with caplog.at_level(logging.WARNING, logger="assistant.loaders"):
        loaded = load_document(doc, root=tmp_path, manifest={})
    assert loaded.source_url == ""
    assert "note.en.md" in caplog.text and "not an http:// or https:// address" in caplog.text


def test_text_fragment_is_encoded_as_the_spec_requires():
    from urllib.parse import unquote

    from assistant.citations import text_fragment

    short = text_fragment("Sweden banned it in 1979, first-ever & alone.")
    assert short == ":~:text=Sweden%20banned%20it%20in%201979%2C%20first%2Dever%20%26%20alone."
    long = text_fragment("The first Barnahus opened in Iceland in 1998\nand the model spread across the region.")
    start, end = long.removeprefix(":~:text=").split(",")
    assert (unquote(start), unquote(end)) == ("The first Barnahus opened", "spread across the region.")
    assert not any(ch in start + end for ch in "-&, ")  # the directive's own syntax never appears in a part


@pytest.mark.parametrize("copy, page, anchor, expected", [
    (False, None, "", "https://example.org/page#top"),  # a note written from the page: the page, plainly
    (True, None, "", "https://example.org/page#:~:text=Barnahus%20opened%20in%201998."),
    (True, None, "history", "https://example.org/page#history:~:text=Barnahus%20opened%20in%201998."),
    (True, 3, "", "https://example.org/page#page=3"),
])
def test_a_quote_links_to_its_place_in_the_source(copy, page, anchor, expected):
    from assistant.citations import quote_url

    assert quote_url("https://example.org/page#top", "Barnahus opened in 1998.", copy_of_source=copy,
                     page=page, anchor=anchor) == expected
    assert quote_url("javascript:x", "Barnahus opened in 1998.", copy_of_source=copy) == ""


@pytest.mark.parametrize("locale, shown", [("en", "as of March 2, 2024"), ("pl", "stan na 2 marca 2024"),
                                           ("de", "Stand: 2. März 2024"), ("uk", "станом на 2 березня 2024\u202fр.")])
def test_a_dated_citation_says_as_of_when_in_the_readers_language(locale, shown):
    tr = Catalogues.load().translator(locale)
    quote = Quote(text="A sentence.", doc_id="a.md", chunk_id="c", start=0, end=11, language="en", score=1.0,
                  citation=Citation(title="T", source_url="https://a.org/", date="2024-03-02"))
    assert shown in citation_line(quote, tr)
