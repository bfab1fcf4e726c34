"""Web sources against a small site that the test serves on a loopback port: pages, a sitemap,
robots.txt that forbids a path, a PDF, a page that changes between syncs, one that disappears,
a slow page and a 500. Real HTTP (http.server), real httpx, the real index; nothing leaves
127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.mirror import Mirror
from assistant.service import build_assistant

pytestmark = pytest.mark.slow

MODIFIED = formatdate(1709373600, usegmt=True)  # 2 March 2024


def _pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.setTitle("Helpline report")
    pdf.drawString(72, 780, "Page one of the report.")
    pdf.showPage()
    pdf.drawString(72, 780, text)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _html(title: str, body: str, lang: str | None = "en") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (f"<!doctype html><html{lang_attr}><head><title>{title}</title></head><body>"
            "<nav><a href='/'>Home</a> <a href='/a.html'>Barnahus</a></nav>"
            "<div class='cookie-banner' hidden>We use cookies.</div>"
            f"<main>{body}</main><footer>© The site, all rights reserved.</footer></body></html>")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass  # the crawler hangs up on the slow page (its timeout): expected, not worth a traceback


class Site:
    """The test's web site: paths → (status, content type, body); every request is counted."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.requests: Counter[str] = Counter()
        self.slow_seconds = 3.0
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, body: str | bytes, *, status: int = 200, kind: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (status, kind, body.encode() if isinstance(body, str) else body)

    def sitemap(self, paths: list[str]) -> None:
        urls = "".join(f"<url><loc>{p if p.startswith('http') else self.url + p}</loc></url>" for p in paths)
        self.page("/sitemap.xml", f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                  f"{urls}</urlset>", kind="application/xml")

    def _handler(self):  # noqa: ANN202
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                site.requests[self.path] += 1
                if self.path == "/slow.html":
                    time.sleep(site.slow_seconds)
                status, kind, body = site.pages.get(self.path, (404, "text/plain", b"not here"))
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if status == 200:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", MODIFIED)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SITEMAP_PATHS = ["/a.html", "/b.html", "/changing.html", "/gone.html", "/slow.html", "/broken.html",
                 "/private/secret.html", "/report.pdf"]


@pytest.fixture
def site():
    s = Site()
    s.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", kind="text/plain")
    s.page("/a.html", _html("Barnahus in the region", "<h2 id='history'>History</h2><p>The first Barnahus in "
                            "the region opened in Reykjavik in 1998 as a child-friendly house for interviews.</p>"))
    s.page("/b.html", _html("Telefon zaufania", "<p>Dzieci mogą zadzwonić pod numer telefonu zaufania, gdy potrzebują "
                            "pomocy albo chcą porozmawiać z kimś dorosłym o swoich problemach.</p>", lang=None))
    s.page("/changing.html", _html("News", "<p>The annual meeting of the network takes place in Vilnius in May.</p>"))
    s.page("/gone.html", _html("Old page", "<p>The old campaign against bullying ran in Tallinn during the winter.</p>"))
    s.page("/slow.html", _html("Slow", "<p>This page answers too slowly to be fetched by anyone.</p>"))
    s.page("/broken.html", "server error", status=500, kind="text/plain")
    s.page("/private/secret.html", _html("Secret", "<p>Nobody may fetch this page, robots.txt says so.</p>"))
    s.page("/report.pdf", _pdf("The helpline answered forty thousand calls from children in the last year."),
           kind="application/pdf")
    s.sitemap(SITEMAP_PATHS + ["http://example.invalid/elsewhere.html"])
    yield s
    s.close()


def _settings(tmp_path: Path, site: Site, name: str = "data") -> Settings:
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        (corpus / "notes").mkdir(parents=True)
        (corpus / "notes" / "local.en.md").write_text(
            "---\ntitle: Local note\nsource_url: https://example.org/local\n---\n\n"
            "Children can call 116 111 to talk to someone who listens.\n", encoding="utf-8")
        (corpus / "sources.yaml").write_text(f"sources:\n  - folder: notes\n  - sitemap: {site.url}/sitemap.xml\n",
                                             encoding="utf-8")
    return Settings(data_dir=tmp_path / name, corpus_dir=corpus, crawl_delay=0.0, crawl_timeout=1.0, crawl_retries=1)


def test_sync_fetches_the_site_politely_and_answers_from_it(tmp_path, site):
    a = build_assistant(_settings(tmp_path, site))
    report = a.sync()
    url = site.url
    assert sorted(report.added) == [f"{url}{p}" for p in ("/a.html", "/b.html", "/changing.html", "/gone.html", "/report.pdf")]
    failed = dict(report.failed)
    assert set(failed) == {f"{url}/slow.html", f"{url}/broken.html", f"{url}/private/secret.html",
                           "http://example.invalid/elsewhere.html"}
    assert "robots.txt" in failed[f"{url}/private/secret.html"] and site.requests["/private/secret.html"] == 0
    assert "500" in failed[f"{url}/broken.html"] and site.requests["/broken.html"] == 2  # retried once
    assert "after 2 tries" in failed[f"{url}/slow.html"]
    assert "not among the allowed hosts" in failed["http://example.invalid/elsewhere.html"]
    assert site.requests["/robots.txt"] == 1
    summary = report.summary()
    assert summary.startswith("web: 5 added, 0 changed, 0 unchanged, 0 removed, 4 failed") and "pages/s" in summary

    ingest = a.ingest()
    assert ingest.documents == 6 and not ingest.failed  # 5 pages and the local note
    rows = {r.source: r for r in a.sources()}
    assert rows[f"{url}/a.html"].title == "Barnahus in the region" and rows[f"{url}/a.html"].fetched
    assert rows[f"{url}/b.html"].language == "pl"  # no <html lang>: detected
    assert rows[f"{url}/report.pdf"].kind == "web-page" and "notes/local.en.md" in rows
    text = a.document(rows[f"{url}/a.html"].doc_id).text
    assert "Home" not in text and "cookies" not in text and "rights reserved" not in text  # only the main content

    answer = a.ask("When did the first Barnahus in the region open in Reykjavik?")
    quote = answer.quotes[0]
    assert quote.citation.url.startswith(f"{url}/a.html#history:~:text=") and "as of March 2, 2024" in answer.text
    for part in quote.citation.url.split(":~:text=", 1)[1].split(","):
        assert unquote(part) in quote.text
    pdf = a.ask("How many calls from children did the helpline answer in the last year?")
    assert pdf.quotes[0].citation.url == f"{url}/report.pdf#page=2"


def test_resync_asks_conditionally_and_follows_changes_and_removals(tmp_path, site):
    a = build_assistant(_settings(tmp_path, site))
    a.sync()
    a.ingest()
    held = a.store.held_chunks()
    site.requests.clear()

    again = a.sync()
    assert (len(again.added), len(again.changed), len(again.unchanged), len(again.removed)) == (0, 0, 5, 0)
    assert site.requests["/a.html"] == 1 and site.requests["/sitemap.xml"] == 1  # one 304 per page
    assert a.ingest().chunks_added == 0 and a.store.held_chunks() == held

    site.page("/changing.html", _html("News", "<p>The annual meeting of the network moved to Riga in June.</p>"))
    site.pages.pop("/gone.html")  # answers 404 now
    site.sitemap([p for p in SITEMAP_PATHS if p != "/b.html"])  # no longer listed
    third = a.sync()
    assert third.changed == [f"{site.url}/changing.html"]
    assert sorted(third.removed) == [f"{site.url}/b.html", f"{site.url}/gone.html"]
    report = a.ingest()
    assert report.chunks_removed >= 3 and report.chunks_added >= 1
    texts = " ".join(a.document(d).text for d in set(a.store.held_chunks().values()))
    assert "Riga in June" in texts and "Vilnius" not in texts and "Tallinn" not in texts and "Dzieci" not in texts
    web = a.settings.data_dir / "web"
    files = {p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file() and p.name != "manifest.yaml"}
    assert files == set(Mirror(a.settings.data_dir).entries()) and len(files) == 3  # a, changing, report


def test_cli_ingest_url_and_sources_json(tmp_path, site, monkeypatch, capsys):
    settings = _settings(tmp_path, site)
    (settings.corpus_dir / "sources.yaml").unlink()  # the corpus folder alone, plus one page by hand
    for key, value in {"DATA_DIR": settings.data_dir, "CORPUS_DIR": settings.corpus_dir, "CRAWL_DELAY": 0,
                       "CRAWL_TIMEOUT": 1, "CRAWL_RETRIES": 0}.items():
        monkeypatch.setenv(f"ASSISTANT_{key}", str(value))
    assert main(["ingest", "--quiet", "--url", f"{site.url}/a.html"]) == 0
    printed = capsys.readouterr().out
    assert "web: 1 added, 0 changed, 0 unchanged, 0 removed, 0 failed" in printed and "2 documents" in printed
    assert main(["sources", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["source"] for r in rows} == {f"{site.url}/a.html", "notes/local.en.md"}
    page = next(r for r in rows if r["source"].startswith("http"))
    assert page["chunks"] >= 1 and page["fetched"] and page["changed"] and page["language"] == "en"
    assert main(["ingest", "--quiet"]) == 0  # a later sync re-checks the page added by hand
    assert "web: 0 added, 0 changed, 1 unchanged" in capsys.readouterr().out


def test_sync_killed_mid_run_is_completed_by_the_next(tmp_path, site):
    for n in range(12):
        site.page(f"/p{n}.html", _html(f"Page {n}", f"<p>Page number {n} tells how the region protects children in "
                                                    f"its own words, sentence {n}.</p>"))
    site.sitemap([f"/p{n}.html" for n in range(12)])
    settings = _settings(tmp_path, site).replace(crawl_delay=0.4, crawl_concurrency=1)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir), "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
           "ASSISTANT_CRAWL_DELAY": "0.4", "ASSISTANT_CRAWL_CONCURRENCY": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mirror = Mirror(settings.data_dir)
    deadline = time.time() + 120
    while time.time() < deadline and len(mirror.entries()) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the sync ended before it was killed: the test proves nothing"
    assert 3 <= len(mirror.entries()) < 12  # killed mid-sync

    a = build_assistant(settings.replace(crawl_delay=0.0))
    a.sync()
    a.ingest()
    clean = build_assistant(settings.replace(data_dir=tmp_path / "clean", crawl_delay=0.0))
    clean.sync()
    clean.ingest()
    assert sorted(a.store.held_chunks()) == sorted(clean.store.held_chunks())
    assert sorted(a.store.held_sentences()) == sorted(clean.store.held_sentences())


@pytest.mark.browser
def test_a_citation_link_opens_the_page_at_the_quote_in_chromium(tmp_path, site, browser):
    """The link of a quote from a fetched page, opened in a real browser: the fragment is well
    formed (Chromium takes the text directive off the address), the page holds the quoted words,
    and the view has scrolled down to them."""
    filler = "".join(f"<p>Paragraph {n} says something else about the work of the network.</p>" for n in range(80))
    site.page("/a.html", _html("Barnahus in the region", filler + "<h2 id='history'>History</h2><p>The first "
                               "Barnahus in the region opened in Reykjavik in 1998 as a child-friendly house.</p>"))
    a = build_assistant(_settings(tmp_path, site))
    a.sync()
    a.ingest()
    quote = a.ask("When did the first Barnahus in the region open in Reykjavik?").quotes[0]
    link = quote.citation.url
    assert link.startswith(f"{site.url}/a.html#history:~:text=")
    start, _, end = link.split(":~:text=", 1)[1].partition(",")
    context = browser.new_context(viewport={"width": 800, "height": 600})
    try:
        page = context.new_page()
        page.goto(link)
        page.wait_for_load_state("load")
        assert page.evaluate("location.hash") == "#history"  # the directive is read by the browser, not left in the hash
        assert page.evaluate("typeof document.fragmentDirective") == "object"
        body = " ".join(page.inner_text("main").split())
        assert unquote(start) in body and unquote(end) in body
        page.wait_for_function("window.scrollY > 1000", timeout=10_000)  # opened down at the quote, past the filler
        page = context.new_page()  # the text directive alone (no heading id) scrolls there too
        page.goto(link.replace("#history:~:", "#:~:"))
        page.wait_for_load_state("load")
        page.wait_for_function("window.scrollY > 1000", timeout=10_000)
    finally:
        context.close()


def test_an_unreachable_robots_txt_means_nothing_is_fetched(tmp_path, site):
    from assistant.crawler import Crawler
    from assistant.sources import load_sources

    site.page("/robots.txt", "busy", status=503, kind="text/plain")
    settings = _settings(tmp_path, site)
    sources = load_sources(settings.corpus_dir)
    with Crawler(sources.hosts, delay=0, timeout=1, retries=0) as crawler:
        report = Mirror(settings.data_dir).sync(sources, crawler, detect=lambda text: None)
    assert report.added == [] and len(report.failed) == 1  # the sitemap itself is not read
    assert "robots.txt could not be read" in report.failed[0][1] and site.requests["/sitemap.xml"] == 0
