"""Loaders: every format builds real fixture files in tmp_path and reads them back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant.config import LOCALES
from assistant.errors import LoaderError
from assistant.loaders import iter_corpus_files, load_document, load_manifest
from assistant.types import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def load(path: Path, manifest: dict | None = None) -> Document:
    return load_document(path, root=path.parent, manifest=manifest or {})


def check_sections(doc: Document) -> None:
    """Sections are ordered, contiguous and cover the whole text."""
    assert doc.sections, doc
    assert doc.sections[0].start == 0
    assert doc.sections[-1].end == len(doc.text)
    for before, after in zip(doc.sections, doc.sections[1:]):
        assert before.end == after.start
    for section in doc.sections:
        assert section.start < section.end
        assert doc.text[section.start : section.end].strip()


def section_text(doc: Document, title: str) -> str:
    (section,) = [s for s in doc.sections if s.title == title]
    return doc.text[section.start : section.end]


# --- formats -----------------------------------------------------------------------------


def test_markdown_front_matter_and_headings(tmp_path: Path) -> None:
    body = (
        "Intro line before any heading.\n\n"
        "# Barnahus\n\nA child-friendly house.  Two spaces kept.\n\n"
        "## Quality standards ##\n\nThere are **10** standards.\n\n"
        "```\n# not a heading inside code\n```\n"
    )
    path = tmp_path / "note.md"
    raw = "---\ntitle: Barnahus in brief\nlanguage: sv\nsource_url: https://example.org/b\nkind: guidance-note\n---\n" + body
    path.write_bytes(raw.replace("\n", "\r\n").encode("utf-8"))
    doc = load(path)
    assert (doc.doc_id, doc.title, doc.language) == ("note.md", "Barnahus in brief", "sv")
    assert (doc.source_url, doc.kind) == ("https://example.org/b", "guidance-note")
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "\r" not in doc.text and "title:" not in doc.text
    assert [s.title for s in doc.sections] == ["", "Barnahus", "Quality standards"]
    check_sections(doc)
    assert section_text(doc, "Barnahus").startswith("Barnahus\n\nA child-friendly house.  Two spaces kept.")
    assert section_text(doc, "Quality standards").startswith("Quality standards\n")
    assert "There are **10** standards." in doc.text  # body lines kept exactly
    assert "# not a heading inside code" in doc.text
    assert "#" not in doc.text.replace("# not a heading", "")


def test_quote_preface_from_front_matter_or_manifest(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: T\nquote_preface: false\n---\nA preface.\n\n# H\n\nBody.\n", encoding="utf-8")
    assert load(path).quote_preface is False
    path.write_text("A preface.\n\n# H\n\nBody.\n", encoding="utf-8")
    assert load(path).quote_preface is True  # the default: every part of a document may be quoted
    assert load(path, {"note.md": {"quote_preface": "no"}}).quote_preface is False
    with pytest.raises(LoaderError, match="quote_preface: 'sometimes' is not true or false"):
        load(path, {"note.md": {"quote_preface": "sometimes"}})


def test_html_headings_keep_their_anchor_and_pages_count_as_copies(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html lang='de'><body><h2 id='geschichte'>Geschichte</h2><p>Seit 1998.</p>"
                    "<h2><a name='heute'></a>Heute</h2><p>Jetzt.</p><h2>Ohne</h2><p>Text.</p></body></html>",
                    encoding="utf-8")
    doc = load(path)
    assert [(s.title, s.anchor) for s in doc.sections] == [("Geschichte", "geschichte"), ("Heute", "heute"), ("Ohne", "")]
    assert doc.copy_of_source is True and doc.language == "de"  # a saved page is the page's own text
    note = tmp_path / "note.md"
    note.write_text("---\ndate: 2024-03-02T10:00:00Z\n---\nA note.\n", encoding="utf-8")
    assert (load(note).copy_of_source, load(note).date) == (False, "2024-03-02")  # a note is written from its page
    assert load(note, {"note.md": {"copy_of_source": True}}).copy_of_source is True  # a manifest may say so
    note.write_text("---\ndate: soon\n---\nA note.\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="date: 'soon' is not a date; write it as YYYY-MM-DD"):
        load(note)


def test_markdown_title_falls_back_to_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "plain-note.md"
    path.write_text("\ufeff## Sub first\n\ntext\n\n# Main title\n\nmore\n", encoding="utf-8")
    doc = load(path)
    assert doc.title == "Main title"
    assert (doc.language, doc.source_url, doc.kind) == ("en", "", "document")
    assert doc.text.startswith("Sub first")


def test_html_keeps_the_main_content_without_cookie_banners(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><body><div id='cookie-notice'>We use cookies. Accept all?</div>"
                    "<aside>Related: other news of the week.</aside><main><h1>Barnahus</h1><p>A child-friendly house."
                    "</p><div class='consent-box'>Manage your consent.</div></main>"
                    "<div class='sidebar'>Latest posts and an archive.</div><dialog open>Sign up now.</dialog></body></html>",
                    encoding="utf-8")
    assert load(path).text == "Barnahus\n\nA child-friendly house."
    path.write_text("<html><body><div class='cookie-bar'>Cookies!</div><p>No main element: the body is the page.</p>"
                    "</body></html>", encoding="utf-8")
    assert load(path).text == "No main element: the body is the page."


def test_txt_with_manifest_entry(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "page.txt"
    path.write_bytes(b"Child Protection\r\n\r\nThe Expert Group \xe2\x80\x99s text.\r\n")
    (tmp_path / "manifest.yaml").write_text(
        "sub/page.txt:\n  title: Child Protection\n  language: en\n"
        "  source_url: https://cbss.org/safe-secure-region/child-protection/\n  kind: site-page\n",
        encoding="utf-8",
    )
    manifest = load_manifest(tmp_path)
    doc = load_document(path, root=tmp_path, manifest=manifest)
    assert doc.doc_id == "sub/page.txt"
    assert (doc.title, doc.kind) == ("Child Protection", "site-page")
    assert doc.source_url == "https://cbss.org/safe-secure-region/child-protection/"
    assert doc.text == "Child Protection\n\nThe Expert Group \u2019s text."
    assert doc.sections == (doc.sections[0],) and doc.sections[0].end == len(doc.text)


def test_front_matter_wins_over_manifest_and_stem_is_fallback(tmp_path: Path) -> None:
    (tmp_path / "a_note-x.txt").write_text("---\nlanguage: de\n---\nHallo Welt.\n", encoding="utf-8")
    manifest = {"a_note-x.txt": {"language": "pl", "kind": "faq"}}
    doc = load(tmp_path / "a_note-x.txt", manifest)
    assert (doc.language, doc.kind, doc.title, doc.text) == ("de", "faq", "A note x", "Hallo Welt.")


def test_html_drops_chrome_and_keeps_blocks(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        """<!doctype html><html lang="de-DE"><head><title>Kinderschutz &amp; Hilfe</title>
        <style>p { color: red }</style><script>var tracking = 1;</script></head><body>
        <header>Site header</header><nav><a href="/">Home</a></nav>
        <h1>Barnahus</h1><p>Ein  kinderfreundliches
           Haus&nbsp;&ndash; <b>unter</b> einem Dach.</p>
        <div hidden>secret</div>
        <h2>Standards</h2><ul><li>Erstens</li><li>Zweitens</li></ul>
        <noscript>Enable JS</noscript><footer>Footer text</footer></body></html>""",
        encoding="utf-8",
    )
    doc = load(path)
    assert (doc.title, doc.language) == ("Kinderschutz & Hilfe", "de")
    for dropped in ("tracking", "color", "Site header", "Home", "Enable JS", "Footer", "secret"):
        assert dropped not in doc.text
    assert doc.text == "Barnahus\n\nEin kinderfreundliches Haus\u00a0\u2013 unter einem Dach.".replace("\u00a0", " ") + (
        "\n\nStandards\n\nErstens\n\nZweitens"
    )
    assert [s.title for s in doc.sections] == ["Barnahus", "Standards"]
    check_sections(doc)
    assert section_text(doc, "Standards").endswith("Zweitens")


def test_html_title_from_h1(tmp_path: Path) -> None:
    path = tmp_path / "x.htm"
    path.write_text("<p>Lead</p><h1>Only heading</h1><p>Body</p>", encoding="utf-8")
    doc = load(path)
    assert doc.title == "Only heading" and doc.language == "en"
    assert [s.title for s in doc.sections] == ["", "Only heading"]


def make_pdf(path: Path, pages: list[list[str]], title: str | None = "Transnational cases", **kwargs: object) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), **kwargs)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        y = 780
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    path = tmp_path / "guide.pdf"
    pages = [
        ["First page about Barnahus.", "It has two lines."],
        ["Second page about trafficking."],
        ["Third page about AudTrain."],
    ]
    make_pdf(path, pages)
    doc = load(path)
    assert doc.title == "Transnational cases"
    assert [s.page for s in doc.sections] == [1, 2, 3]
    check_sections(doc)
    for section, lines in zip(doc.sections, pages):
        page_text = doc.text[section.start : section.end]
        for line in lines:
            assert line in page_text
    assert "trafficking" not in doc.text[: doc.sections[1].start]


def test_pdf_blank_page_keeps_true_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "three_pages.pdf"
    make_pdf(path, [["Page one."], [], ["Page three."]], title=None)
    doc = load(path)
    assert doc.title == "Three pages"  # reportlab's default "untitled" is ignored
    assert [s.page for s in doc.sections] == [1, 3]
    assert doc.text[doc.sections[1].start : doc.sections[1].end] == "Page three."


def test_pdf_without_text_needs_ocr(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 200, 200, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(LoaderError, match=r"scan\.pdf.*OCR"):
        load(path)


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    make_pdf(path, [["Secret text."]], encrypt="s3cret")
    with pytest.raises(LoaderError, match=r"locked\.pdf.*password"):
        load(path)


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Where to get help", 0)
    document.add_paragraph("Call a helpline.")
    document.add_heading("Sweden", 1)
    document.add_paragraph("BRIS answers children.")
    document.add_heading("Online", 2)
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Country", (0, 1): "Number", (1, 0): "SE", (1, 1): "116 111"}.items():
        table.cell(r, c).text = value
    document.add_paragraph("After the table.")
    document.core_properties.language = "sv-SE"
    path = tmp_path / "help.docx"
    document.save(str(path))
    doc = load(path)
    assert (doc.title, doc.language) == ("Where to get help", "sv")
    assert [s.title for s in doc.sections] == ["Where to get help", "Sweden", "Online"]
    check_sections(doc)
    assert section_text(doc, "Sweden") == "Sweden\n\nBRIS answers children.\n\n"
    assert section_text(doc, "Online") == "Online\n\nCountry | Number\nSE | 116 111\n\nAfter the table."


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", b"abc\x00\x01\x02def", "looks like a binary file"),
        ("latin.md", "Förster straße".encode("latin-1"), "not UTF-8 text; save it as UTF-8"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip at all", "not a readable .docx"),
        ("badfront.md", b"---\ntitle: ok\nlanguage: [en\n---\nBody\n", r"front matter is not valid YAML \(line [34]\)"),
        ("unclosed.md", b"---\ntitle: ok\nBody\n", "not closed"),
        ("listfront.txt", b"---\n- a\n- b\n---\nBody\n", "front matter must be"),
        ("empty.txt", b"  \r\n\n", "no text"),
        ("onlyfront.md", b"---\ntitle: x\n---\n\n", "no text"),
        ("empty.html", b"<html><body><script>x()</script></body></html>", "no text"),
        ("french.md", b"---\nlanguage: fr\n---\nBonjour.\n", "'fr' is not supported; use one of: en da"),
        ("notes.rtf", b"{\\rtf1 hi}", "unsupported file type"),
    ],
)
def test_failures_name_the_file(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError, match=reason) as info:
        load(path)
    assert info.value.path == name
    assert str(info.value).startswith(name + ": ")


def test_unknown_language_in_manifest(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Text.", encoding="utf-8")
    with pytest.raises(LoaderError, match="a.txt: language 'xx'"):
        load(tmp_path / "a.txt", {"a.txt": {"language": "xx"}})


def test_too_large_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: costs no disk space
    with pytest.raises(LoaderError, match="huge.txt: .*50 MB"):
        load(path)


def test_file_outside_root_is_named_by_path(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(LoaderError) as info:
        load_document(path, root=tmp_path / "root", manifest={})
    assert info.value.path == str(path)


# --- corpus files and manifest --------------------------------------------------------------


def test_iter_corpus_files(tmp_path: Path) -> None:
    for rel in ["b.md", "a.TXT", "sub/c.pdf", "sub/d.docx", "e.html", "f.htm", "manifest.yaml", "notes.rtf",
                ".hidden.md", ".git/x.md", "sub/.cache/y.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    (tmp_path / "dir.md").mkdir()
    names = [p.relative_to(tmp_path).as_posix() for p in iter_corpus_files(tmp_path)]
    assert names == ["a.TXT", "b.md", "e.html", "f.htm", "sub/c.pdf", "sub/d.docx"]


def test_manifest_missing_empty_and_malformed(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) == {}
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("", encoding="utf-8")
    assert load_manifest(tmp_path) == {}
    manifest.write_text("./x.md: {title: X}\n", encoding="utf-8")
    assert load_manifest(tmp_path) == {"x.md": {"title": "X"}}
    for bad, reason in [("a: [1,\n", "not valid YAML"), ("- a\n- b\n", "must map"), ("a.md: just a string\n", "'a.md'")]:
        manifest.write_text(bad, encoding="utf-8")
        with pytest.raises(LoaderError, match=reason) as info:
            load_manifest(tmp_path)
        assert info.value.path.endswith("manifest.yaml")


def test_shipped_corpus_loads() -> None:
    files = iter_corpus_files(CORPUS) if CORPUS.is_dir() else []
    if not files:
        pytest.skip("corpus/ has no documents yet")
    manifest = load_manifest(CORPUS)
    doc_ids = set()
    for path in files:
        doc = load_document(path, root=CORPUS, manifest=manifest)
        doc_ids.add(doc.doc_id)
        assert doc.title.strip() and doc.language in LOCALES and doc.kind, doc.doc_id
        assert doc.source_url.startswith(("http://", "https://")), doc.doc_id
        check_sections(doc)
    assert len(doc_ids) == len(files)
    assert set(manifest) <= doc_ids, "manifest names files that do not exist"
