"""Source files → :class:`Document`: clean text, metadata and sections, one function per format.

Every offset later used for chunks and quotes refers to ``Document.text``, so each loader
builds the text and its sections in one pass. A file that cannot be read raises
:class:`LoaderError` naming the file and saying what to do; the ingest reports it and goes on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml

from .citations import web_link
from .config import LOCALES, parse_bool
from .errors import LoaderError
from .text import one_line
from .types import Document, Section

SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf", ".docx")
MANIFEST = "manifest.yaml"
MAX_BYTES = 50 * 1024 * 1024
META_KEYS = ("title", "language", "source_url", "kind", "quote_preface", "date", "copy_of_source")
# Files that are usually a saved copy of the page at their source_url (a link may open at the quote).
COPY_SUFFIXES = (".html", ".htm", ".pdf")
TEXT_SUFFIXES = (".md", ".txt", ".html", ".htm")
log = logging.getLogger(__name__)

# Marks are turned into contiguous Sections by _sections().
# (start offset, section title, page, the page's anchor for that heading: its HTML id, or "")
Mark = tuple[int, str, "int | None", str]
Block = tuple[str, bool, "int | None", str]  # text, is a heading, page, anchor
Parsed = tuple[str, list[Mark], dict[str, str]]  # text, section marks, metadata found in the file


def iter_corpus_files(root: Path) -> list[Path]:
    """Every loadable file under ``root``, sorted by relative path; hidden files and the manifest skipped."""
    root = Path(root)
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.name == MANIFEST:
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_manifest(root: Path) -> dict[str, dict]:
    """``root/manifest.yaml``: relative path → {title, language, source_url, kind}; {} when absent."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LoaderError(str(path), f"cannot be read ({exc}); save it as UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise LoaderError(str(path), f"is not valid YAML{_yaml_where(exc, 1)}; fix the syntax") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LoaderError(str(path), "must map each file's relative path to its title, language, source_url and kind")
    manifest: dict[str, dict] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise LoaderError(str(path), f"the entry for {key!r} must be a mapping with title, language, source_url and kind")
        manifest[str(key).replace("\\", "/").removeprefix("./")] = dict(entry)
    return manifest


def load_document(path: Path, *, root: Path, manifest: dict, prefix: str = "") -> Document:
    """Read one file into a Document; raises LoaderError(path, reason) when it cannot be used.

    Its id is its path relative to ``root`` (the manifest's key), after ``prefix`` (``web/``
    for the mirror of the web sources, so its ids never meet the corpus folder's)."""
    path = Path(path)
    key, name = path.name, str(path)  # for a file given from outside the corpus folder
    for file, folder in ((path.absolute(), Path(root).absolute()), (path.resolve(), Path(root).resolve())):
        if file.is_relative_to(folder):
            key = file.relative_to(folder).as_posix()
            name = prefix + key
            break
    doc_id = prefix + key
    suffix = path.suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        raise LoaderError(name, f"unsupported file type {suffix or '(none)'!r}; use one of {' '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LoaderError(name, f"is {size / 2**20:.0f} MB, more than the 50 MB limit; split it into smaller files")
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(name, f"cannot be read ({exc.strerror or exc})") from exc
    if suffix in TEXT_SUFFIXES and b"\x00" in data[:8192]:
        raise LoaderError(name, f"looks like a binary file, not {suffix} text; remove it or export it as text")
    text, marks, found = parser(data, name)
    if not text.strip():
        raise LoaderError(name, "has no text after cleaning; add content or remove the file")
    entry = manifest.get(key) or {}
    if not isinstance(entry, dict):
        entry = {}

    def meta(key: str, default: str) -> str:
        for source in (found.get("front:" + key), entry.get(key), found.get(key)):
            if source is not None and str(source).strip():
                return str(source).strip()
        return default

    return Document(
        doc_id=doc_id,
        title=meta("title", _stem_title(path)),
        language=_language(meta("language", "en"), name),
        source_url=_web_address(meta("source_url", ""), name),
        text=text,
        sections=_sections(text, marks),
        kind=meta("kind", "document"),
        sha256=hashlib.sha256(data).hexdigest(),
        quote_preface=_yes_or_no(meta("quote_preface", "true"), "quote_preface", name),
        date=_iso_date(meta("date", ""), name),
        copy_of_source=_yes_or_no(meta("copy_of_source", str(suffix in COPY_SUFFIXES)), "copy_of_source", name),
    )


# --- helpers -----------------------------------------------------------------------------


def read_page(data: bytes, suffix: str) -> tuple[str, str | None]:
    """A fetched file's cleaned text and the language it names for itself (``<html lang>``,
    PDF metadata), else None: a page that names none has its language detected instead."""
    parser = _PARSERS.get(suffix.lower())
    try:
        text, _, found = parser(data, "page") if parser else ("", [], {})
        code = found.get("front:language") or found.get("language") or ""
        return text, (_language(code, "page") if code.strip() else None)
    except LoaderError:
        return "", None


def _iso_date(value: str, name: str) -> str:
    """A ``date`` (YYYY-MM-DD, or a date-time whose date part is that) as YYYY-MM-DD; '' when absent."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        raise LoaderError(name, f"date: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-03-02") from None


def _yes_or_no(value: str, key: str, name: str) -> bool:
    try:
        return parse_bool(value)
    except ValueError:
        raise LoaderError(name, f"{key}: {value!r} is not true or false") from None


def _web_address(url: str, name: str) -> str:
    """``url`` when it is an http(s) address; otherwise '' and a warning (a ``javascript:`` or
    ``data:`` link in a document's metadata must never become a link in an answer)."""
    if url and not web_link(url):
        log.warning("%s: source_url %r is not an http:// or https:// address; it was dropped and the "
                    "document is cited without a link. Give the page's web address.", name, url[:200])
        return ""
    return url


def _language(code: str, name: str) -> str:
    base = re.split(r"[-_]", code.strip().lower())[0]
    base = {"no": "nb", "nn": "nb"}.get(base, base)  # Norwegian is served by the nb catalogue
    if base not in LOCALES:
        raise LoaderError(name, f"language {code!r} is not supported; use one of: {' '.join(LOCALES)}")
    return base


def _stem_title(path: Path) -> str:
    title = re.sub(r"[-_]+", " ", path.stem).strip()
    return title[:1].upper() + title[1:] if title else path.name


def _sections(text: str, marks: list[Mark]) -> tuple[Section, ...]:
    """Contiguous sections from 0 to len(text): each runs from its mark to the next one."""
    marks = sorted(marks, key=lambda m: m[0])
    if not marks:
        return (Section(0, len(text)),)
    if marks[0][0] > 0:
        if text[: marks[0][0]].strip():
            marks.insert(0, (0, "", None, ""))  # text before the first heading
        else:
            marks[0] = (0, *marks[0][1:])
    ends = [m[0] for m in marks[1:]] + [len(text)]
    return tuple(Section(start, end, title, page, anchor) for (start, title, page, anchor), end in zip(marks, ends) if end > start)


def _yaml_where(exc: yaml.YAMLError, first_line: int) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" (line {mark.line + first_line})" if mark is not None else ""


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoaderError(name, f"not UTF-8 text; save it as UTF-8 (the first bad byte is at position {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _front_matter(text: str, name: str) -> tuple[dict[str, str], str]:
    """Split an optional leading ``---`` YAML block off ``text``; keys come back as ``front:<key>``."""
    if not re.match(r"---[ \t]*\n", text):
        return {}, text
    match = _FRONT.match(text)
    if match is None:
        raise LoaderError(name, "front matter at line 1 is not closed; end it with a line of three dashes (---)")
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as exc:
        raise LoaderError(name, f"front matter is not valid YAML{_yaml_where(exc, 2)}; fix the syntax") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoaderError(name, "front matter must be key: value lines (title, language, source_url, kind)")
    found = {"front:" + k: str(data[k]) for k in META_KEYS if data.get(k) is not None}
    return found, text[match.end():]


_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _load_markdown(data: bytes, name: str) -> Parsed:
    """Headings lose their #'s and start sections; every other line is kept exactly."""
    found, body = _front_matter(_decode(data, name), name)
    out: list[str] = []
    marks: list[Mark] = []
    pos, fence, h1 = 0, "", ""
    for line in body.strip("\n").rstrip().split("\n"):
        fence_match = _FENCE.match(line)
        if fence:
            if line.strip().startswith(fence):
                fence = ""  # a closing fence; headings inside code blocks are not headings
        elif fence_match:
            fence = fence_match.group(1)
        elif heading := _HEADING.fullmatch(line):
            line = (heading.group(2) or "").strip()
            if line:
                marks.append((pos, line, None, ""))
                if len(heading.group(1)) == 1 and not h1:
                    h1 = line
        out.append(line)
        pos += len(line) + 1
    if h1 or marks:
        found["title"] = h1 or marks[0][1]
    return "\n".join(out), marks, found


def _load_text(data: bytes, name: str) -> Parsed:
    found, body = _front_matter(_decode(data, name), name)
    return body.strip("\n").rstrip(), [], found


def _from_blocks(blocks: list[Block]) -> tuple[str, list[Mark]]:
    """Join blocks with blank lines; headings and pages start sections."""
    parts: list[str] = []
    marks: list[Mark] = []
    pos = 0
    for text, is_heading, page, anchor in blocks:
        if not text:
            continue
        if parts:
            pos += 2
        if is_heading or page is not None:
            marks.append((pos, one_line(text) if is_heading else "", page, anchor if is_heading else ""))
        parts.append(text)
        pos += len(text)
    return "\n\n".join(parts), marks


_DROP = ["script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe", "dialog"]
# Cookie and consent banners, whatever element they are: an id or class that names them.
_BANNER = re.compile(r"cookie|consent|gdpr", re.IGNORECASE)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details div dl dt fieldset figcaption figure "
    "form hr li main ol p pre section summary table td th tr ul".split()
)


def _load_html(data: bytes, name: str) -> Parsed:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(_decode(data, name))
    found: dict[str, str] = {}
    html = tree.css_first("html")
    if html is not None and (html.attributes.get("lang") or "").strip():
        found["language"] = html.attributes["lang"] or ""
    title = tree.css_first("title")
    if title is not None and title.text().strip():
        found["title"] = one_line(title.text())
    tree.strip_tags(_DROP)
    for node in tree.css("[id], [class]"):
        if _BANNER.search(f"{node.attributes.get('id') or ''} {node.attributes.get('class') or ''}"):
            node.decompose()
    blocks: list[Block] = []
    buffer: list[str] = []
    heading = [0]  # how many h1-h6 elements enclose the current text
    anchor = [""]  # the id of the heading being read (a link to the page can open there)

    def flush() -> None:
        text = one_line("".join(buffer))  # entities are already unescaped by the parser
        buffer.clear()
        if text:
            blocks.append((text, heading[0] > 0, None, anchor[0] if heading[0] > 0 else ""))

    # Explicit stack (not recursion) so deeply nested pages cannot hit the recursion limit.
    # The page's main content when it marks it (<main>, role=main); else the whole body.
    start = tree.css_first("main") or tree.css_first("[role=main]") or tree.body
    stack: list[tuple[Any, bool]] = [(start, False)] if start is not None else []
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if tag == "-text":
            buffer.append(node.text(deep=False) or "")
            continue
        if tag == "br":
            buffer.append("\n")
            continue
        if tag.startswith("-") or (not leaving and "hidden" in node.attributes):
            continue  # comments and elements the page hides
        if tag in _BLOCKS or tag in _HEADINGS:
            flush()
            if tag in _HEADINGS:
                heading[0] += -1 if leaving else 1
                anchor[0] = "" if leaving else _heading_anchor(node)
            if leaving:
                continue
        if not leaving:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    flush()
    if "title" not in found:
        h1 = tree.css_first("h1")
        if h1 is not None and h1.text().strip():
            found["title"] = one_line(h1.text())
    text, marks = _from_blocks(blocks)
    return text, marks, found


def _heading_anchor(node: Any) -> str:
    """The heading's id, else the id (or name) of an anchor inside it."""
    if (node.attributes.get("id") or "").strip():
        return node.attributes["id"].strip()
    inner = node.css_first("a[id], a[name]")
    return ((inner.attributes.get("id") or inner.attributes.get("name") or "").strip()) if inner is not None else ""


def _clean_page(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _load_pdf(data: bytes, name: str) -> Parsed:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(name, "is password-protected; save an unprotected copy and add that instead")
        pages = [_clean_page(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
        lang = reader.trailer["/Root"].get("/Lang")
    except LoaderError:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise LoaderError(name, f"is not a readable PDF ({type(exc).__name__}: {exc}); re-export or replace it") from exc
    if not any(pages):
        raise LoaderError(name, "has no extractable text; it may be a scanned document that needs OCR (e.g. ocrmypdf) first")
    text, marks = _from_blocks([(page, False, number, "") for number, page in enumerate(pages, start=1)])
    found: dict[str, str] = {}
    if info is not None and isinstance(info.title, str) and info.title.strip().lower() not in {"", "untitled"}:
        found["title"] = info.title.strip()
    if isinstance(lang, str) and lang.strip():
        found["language"] = lang
    return text, marks, found


def _load_docx(data: bytes, name: str) -> Parsed:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[Block] = []
        title = ""
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.append((_table_text(item), False, None, ""))
                continue
            style = getattr(getattr(item, "style", None), "name", "") or ""
            text = item.text.replace("\r", "").strip()
            is_heading = style.startswith(("Heading", "Title"))
            if style.startswith("Title") and text and not title:
                title = text
            blocks.append((text, is_heading, None, ""))
        props = document.core_properties
        found = {"title": (props.title or "").strip() or title, "language": (props.language or "").strip()}
    except Exception as exc:  # python-docx raises zip, XML and key errors on damaged files
        raise LoaderError(name, f"is not a readable .docx file ({type(exc).__name__}); open and save it again in Word or LibreOffice (.doc files must be saved as .docx)") from exc
    text, marks = _from_blocks(blocks)
    if not found["title"] and marks:
        found["title"] = marks[0][1]
    return text, marks, {k: v for k, v in found.items() if v}


def _table_text(table: Any) -> str:
    """One line per row, cells separated by ' | ' (merged cells counted once)."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[Any] = []  # holding the elements keeps lxml's proxies (and identity) stable
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):
                continue
            seen.append(cell._tc)
            text = one_line(cell.text)
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


_PARSERS: dict[str, Callable[[bytes, str], Parsed]] = {
    ".md": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
