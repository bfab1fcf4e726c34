"""Security and privacy of what the chat shows, stores and accepts, tested on real parts.

- A hostile corpus (inline HTML, <script>, <img onerror>, javascript:/data: links, Markdown link
  injection in titles and sections, a TeX \\href) is ingested, served and asked about: through
  the service, the HTTP API (rendered by a careless CommonMark renderer with raw HTML on), the
  CLI's ``ask --json`` and a real headless Chromium (dialog, console and request hooks).
- Random Unicode through the whole answer path (hypothesis).
- The per-client rate limit, security headers and framing, the API's defaults, and what
  feedback and the browser keep.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

from conftest import PROJECT, free_port, served

from assistant.config import LOCALES, Settings
from assistant.errors import InputError
from assistant.web.page import _NOT_SAVED, _TOO_MANY, API_NAME, FEEDBACK_FILE

pytestmark = pytest.mark.slow

HOSTILE_NOTE = """---
title: Barnahus safety <img src=x onerror=alert('title')> [evil](javascript:alert('titlelink'))
language: en
source_url: javascript:alert(document.cookie)
---

# Zebra houses <svg onload=alert('heading')> [x](javascript:alert('sectionlink'))

The zebra protocol protects children in Barnahus houses <img src=x onerror=alert('img')> by hearing them once.

The zebra helpline number is written as <script>alert('script')</script> in the old leaflet for parents.

The zebra report says [click here](javascript:alert('mdlink')) for the full text of the interview rules.

The zebra picture ![pic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) shows a Barnahus house.

The zebra raw link <a href="javascript:alert('a')">open</a> leads to the child-friendly interview rooms.

The zebra formula $$\\href{javascript:alert('tex')}{x}$$ was used to count the forensic interviews.
"""
HOSTILE_PAGE = """<html lang="en"><head><title>Quagga <b>guide</b></title><script>alert('head')</script></head>
<body><h1>Quagga interviews &lt;img src=x onerror=alert('entity')&gt;</h1>
<p>The quagga method lets a child tell their story once &lt;script&gt;alert('esc')&lt;/script&gt; in a friendly room.</p>
<p>The quagga rooms are described <a href="javascript:alert('html')">on this page</a> in detail for parents.</p>
</body></html>
"""
QUESTIONS = (
    "How does the zebra protocol protect children in Barnahus houses?",
    "How is the zebra helpline number written in the old leaflet for parents?",
    "What does the zebra report say about the full text of the interview rules?",
    "What does the zebra picture show?",
    "Where does the zebra raw link lead?",
    "What was the zebra formula used to count?",
    "What does the quagga method let a child do?",
)
ANSWER_TIMEOUT = 120_000  # ms


def unsafe_parts(markdown: str) -> list[str]:
    """What a page would run or follow if it rendered ``markdown`` with raw HTML allowed."""
    tree = LexborHTMLParser(MarkdownIt("commonmark", {"html": True}).render(markdown))
    found = []
    for node in tree.css("*"):
        if node.tag in ("script", "iframe", "object", "embed", "svg", "img", "style", "form"):
            found.append(node.tag)
        for name, value in (node.attributes or {}).items():
            if name.lower().startswith("on"):
                found.append(f"{node.tag}[{name}]")
            if name in ("href", "src") and not (value or "").lower().startswith(("http://", "https://", "tel:")):
                found.append(f"{node.tag}[{name}={value}]")
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile corpus ingested with the real model (the per-client limit off)."""
    from assistant.service import build_assistant

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "zebra.en.md").write_text(HOSTILE_NOTE, encoding="utf-8")
    (corpus / "quagga.en.html").write_text(HOSTILE_PAGE, encoding="utf-8")
    assistant = build_assistant(Settings(data_dir=root / "data", corpus_dir=corpus, rate_limit=0))
    report = assistant.ingest()
    assert report.documents == 2 and not report.failed
    return assistant


@pytest.fixture(scope="module")
def hostile_url(hostile):
    with served(hostile) as url:
        yield url


def test_hostile_documents_are_quoted_as_text_by_the_service(hostile):
    answered = 0
    for question in QUESTIONS:
        answer = hostile.ask(question, locale="en")
        for quote in answer.quotes:
            assert hostile.document_text(quote.doc_id)[quote.start:quote.end] == quote.text
            assert quote.citation.source_url == "", "a javascript: source_url must not survive ingest"
        answered += any(("alert(" in q.text or "javascript:" in q.text) for q in answer.quotes)
        assert unsafe_parts(answer.text) == [], (question, answer.text)
    assert answered >= 5, f"only {answered} questions quoted a hostile sentence: the test would prove little"


def test_hostile_documents_through_the_api_and_the_cli(hostile, hostile_url):
    from gradio_client import Client

    client = Client(hostile_url, verbose=False)
    for question in QUESTIONS[:3]:
        reply = client.predict(question, "en", "", api_name=f"/{API_NAME}")
        assert "alert(" in reply and unsafe_parts(reply) == [], reply

    env = {"PATH": os.environ["PATH"], "ASSISTANT_DATA_DIR": str(hostile.settings.data_dir),
           "ASSISTANT_CORPUS_DIR": str(hostile.settings.corpus_dir), "HOME": os.environ.get("HOME", "/root")}
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", QUESTIONS[0], "--json"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["quotes"] and unsafe_parts(payload["text"]) == []
    for quote in payload["quotes"]:  # the data keeps the exact text; only its display is escaped
        assert hostile.document_text(quote["doc_id"])[quote["start"]:quote["end"]] == quote["text"]
        assert quote["citation"]["source_url"] == ""
    assert "Traceback" not in done.stderr


def _send(page, box, text: str, messages: int) -> None:  # noqa: ANN001
    """Type and send ``text``, then wait for ``messages`` chat messages. Enter while the previous
    answer is still streaming is ignored by the page (one answer at a time per visitor), so it
    is pressed again, as a person would, while the text is still in the box."""
    from playwright.sync_api import expect

    box.fill(text)
    deadline = time.monotonic() + ANSWER_TIMEOUT / 1000
    while True:
        box.press("Enter")
        try:
            expect(page.locator("#chat .message")).to_have_count(messages, timeout=5_000)
            return
        except AssertionError:
            if time.monotonic() > deadline or box.input_value() != text:  # sent after all: wait for it
                expect(page.locator("#chat .message")).to_have_count(messages, timeout=ANSWER_TIMEOUT)
                return


@pytest.mark.browser
def test_no_hostile_script_runs_in_the_browser(browser, hostile_url):
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    dialogs, console, requests = [], [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(m.text))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(hostile_url + "/")
        box = page.locator("#question textarea")
        box.wait_for()
        for i, question in enumerate(QUESTIONS):
            _send(page, box, question, 2 * (i + 1))
            expect(page.locator("#chat .message").last).not_to_contain_text("Searching", timeout=ANSWER_TIMEOUT)
        typed = "<img src=x onerror=alert('typed')> [me](javascript:alert('typed'))"
        _send(page, box, typed, 2 * len(QUESTIONS) + 2)
        expect(page.locator("#chat")).to_contain_text(typed, timeout=ANSWER_TIMEOUT)  # shown as typed
        page.wait_for_timeout(1500)  # time for anything that was going to fire

        chat = page.locator("#chat")
        assert chat.locator("blockquote").count() >= 5, "the hostile sentences should have been quoted"
        expect(chat).to_contain_text("<img src=x onerror=alert('img')>")  # the document's text, as text
        assert dialogs == [], dialogs
        assert not [m for m in console if "alert" in m or "Content Security Policy" in m], console
        for selector in ("a[href^='javascript:' i]", "a[href^='data:' i]", "[src^='data:text' i]", "[onerror]",
                         "[onload]", "#chat script", "#chat svg[onload]", "#chat img[src='x']", "#sources a"):
            assert page.locator(selector).count() == 0, selector
        origin = hostile_url.rstrip("/")
        assert [u for u in requests if not u.startswith((origin + "/", "data:", "blob:"))] == []
    finally:
        context.close()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_unicode_message_gets_an_answer_or_a_clear_error(shipped_assistant, message):
    try:
        answer = shipped_assistant.ask(message, locale="en")
    except InputError as error:  # empty, binary-looking or too long: a readable message, nothing else
        assert error.message and "Traceback" not in str(error)
        return
    assert answer.locale in LOCALES and answer.text.strip()
    for quote in answer.quotes:
        assert shipped_assistant.document_text(quote.doc_id)[quote.start:quote.end] == quote.text
    assert unsafe_parts(answer.text) == []


# -- the app as an operator configures it: limit, proxies, framing ------------------------------

EMBED_ALLOWED, EMBED_OTHER = free_port(), free_port()


@pytest.fixture(scope="module")
def limited_url(hostile):
    """The hostile index served with a limit of 2 messages a minute, one trusted proxy, framing
    allowed for one other loopback origin, and a feedback file that cannot be opened."""
    from assistant.service import build_assistant

    settings = hostile.settings.replace(rate_limit=2, trusted_proxies=1,
                                        frame_ancestors=f"'self' http://127.0.0.1:{EMBED_ALLOWED}")
    (settings.data_dir / FEEDBACK_FILE).mkdir(exist_ok=True)  # a folder where the database should be
    with served(build_assistant(settings)) as url:
        yield url


def _respond(url: str, body: dict, headers: dict | None = None) -> tuple[str, object]:
    """One call of the documented plain-HTTP API: ("complete", [reply]) or ("error", message)."""
    with httpx.Client(trust_env=False, timeout=120) as http:
        event = http.post(f"{url}/gradio_api/call/{API_NAME}", json=body, headers=headers or {})
        event.raise_for_status()
        stream = http.get(f"{url}/gradio_api/call/{API_NAME}/{event.json()['event_id']}").text
    kind = data = None
    for line in stream.splitlines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind in ("complete", "error"):
            data = json.loads(line[6:])
            break
    return kind, data


def test_rate_limit_per_client_on_the_api(limited_url, hostile):
    tr = hostile.catalogues.translator("en")
    question = {"data": [QUESTIONS[0], "en", ""]}
    first = [_respond(limited_url, question, {"X-Forwarded-For": "203.0.113.7"}) for _ in range(2)]
    assert all(kind == "complete" and tr.gettext(_TOO_MANY) not in reply[0] for kind, reply in first)
    kind, reply = _respond(limited_url, question, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})  # spoofed left part
    assert kind == "complete" and reply[0].startswith(tr.gettext(_TOO_MANY)) and "tel:112" in reply[0]
    kind, reply = _respond(limited_url, question, {"X-Forwarded-For": "203.0.113.8"})
    assert kind == "complete" and tr.gettext(_TOO_MANY) not in reply[0], "another client is not limited"


def test_api_defaults_and_unknown_locale(hostile_url):
    kind, reply = _respond(hostile_url, {"data": [QUESTIONS[0]]})  # the message alone, as documented
    assert kind == "complete" and "quoted word for word" in reply[0]
    kind, message = _respond(hostile_url, {"data": [QUESTIONS[0], "xx"]})
    assert kind == "error" and "'xx'" in str(message) and " ".join(LOCALES) in str(message)
    kind, message = _respond(hostile_url, {"data": ["   "]})
    assert kind == "error" and "empty" in str(message)
    with httpx.Client(trust_env=False) as http:
        too_big = http.post(f"{hostile_url}/gradio_api/call/{API_NAME}", json={"data": ["x" * 300_000]})
    assert too_big.status_code == 413


def test_security_headers_on_the_page_and_the_api(limited_url):
    with httpx.Client(trust_env=False) as http:
        for path in ("/", "/gradio_api/info", "/config"):
            headers = http.get(limited_url + path).headers
            csp = headers["content-security-policy"]
            assert f"frame-ancestors 'self' http://127.0.0.1:{EMBED_ALLOWED}" in csp and "default-src 'self'" in csp
            assert "object-src 'none'" in csp and "base-uri 'self'" in csp
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert "x-frame-options" not in headers


@pytest.mark.browser
def test_only_allowed_sites_can_embed_the_chat_and_its_frame_fits_the_answer(browser, limited_url, tmp_path):
    from playwright.sync_api import expect

    # The snippet of the README: the app's own /embed.js and an iframe marked data-cbss-assistant.
    (tmp_path / "embed.html").write_text(
        f'<!doctype html><html><body><h1>CBSS</h1><script src="{limited_url}/embed.js"></script>'
        f'<iframe data-cbss-assistant id="chat" src="{limited_url}/?lang=pl" title="Assistant" '
        'style="width:100%; height:300px; border:0"></iframe></body></html>')
    servers = [ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
               for port in (EMBED_ALLOWED, EMBED_OTHER)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    # Its own client address (behind the one trusted proxy), so the limit test's count is not shared.
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "192.0.2.50"}, viewport={"width": 800, "height": 900})
    try:
        refused = context.new_page()
        refused.goto(f"http://127.0.0.1:{EMBED_OTHER}/embed.html")
        refused.wait_for_timeout(3000)
        assert refused.frame_locator("#chat").locator("#question textarea").count() == 0, "framed by another site"

        page = context.new_page()
        page.goto(f"http://127.0.0.1:{EMBED_ALLOWED}/embed.html")
        frame = page.frame_locator("#chat")
        box = frame.locator("#question textarea")
        expect(box).to_be_visible(timeout=30_000)
        height = lambda: page.evaluate("document.getElementById('chat').getBoundingClientRect().height")  # noqa: E731
        page.wait_for_function("document.getElementById('chat').getBoundingClientRect().height > 300", timeout=10_000)
        before = height()
        box.fill(QUESTIONS[0])
        box.press("Enter")
        expect(frame.locator("#chat blockquote").first).to_be_visible(timeout=ANSWER_TIMEOUT)
        page.wait_for_function(f"document.getElementById('chat').getBoundingClientRect().height > {before + 100}",
                               timeout=10_000)
        inner = page.frame_locator("#chat").locator(".gradio-container").bounding_box()
        assert height() >= inner["height"], "the frame is as tall as the page inside it: no inner scrolling"
    finally:
        context.close()
        for server in servers:
            server.shutdown()


@pytest.mark.browser
def test_chat_rate_limit_and_feedback_failure_are_explained(browser, limited_url, hostile):
    from playwright.sync_api import expect

    tr = hostile.catalogues.translator("en")
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(limited_url + "/")
        box = page.locator("#question textarea")
        box.fill(QUESTIONS[0])
        box.press("Enter")
        expect(page.locator("#chat blockquote").first).to_be_visible(timeout=ANSWER_TIMEOUT)
        page.locator("#feedback-up").click()  # the database cannot be opened: said so, not an error toast
        expect(page.locator("#feedback-status")).to_have_text(tr.gettext(_NOT_SAVED), timeout=30_000)
        for i, question in enumerate(QUESTIONS[1:3]):
            _send(page, box, question, 4 + 2 * i)  # Enter is ignored while the answer before streams
        last = page.locator("#chat .message").last
        expect(last).to_contain_text(tr.gettext(_TOO_MANY), timeout=ANSWER_TIMEOUT)
        expect(last.locator('a[href="tel:112"]')).to_be_visible()
        expect(box).to_have_value(QUESTIONS[2])  # kept, to send again after a minute
    finally:
        context.close()


@pytest.mark.browser
def test_feedback_keeps_masked_questions_and_the_browser_keeps_only_the_choices(browser, app_url, shipped_assistant):
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(app_url + "/")
        box = page.locator("#question textarea")
        rows_before = len(_feedback_rows(shipped_assistant))
        for n, message in enumerate(("I am anna.k@example.org, tel 0701234567: what is the Barnahus model?",
                                     "my stepdad Jonas hits me every night, what is Barnahus")):
            box.fill(message)
            box.press("Enter")
            expect(page.locator("#chat .message")).to_have_count(2 * (n + 1), timeout=ANSWER_TIMEOUT)
            expect(page.locator("#chat .message").last).not_to_contain_text("Searching", timeout=ANSWER_TIMEOUT)
            page.locator("#feedback-down").click()
            expect(page.locator("#feedback-status")).not_to_be_empty(timeout=30_000)
            # The status may still show the first rating's thanks: wait for the row itself.
            deadline = time.monotonic() + 30
            while len(_feedback_rows(shipped_assistant)) < rows_before + n + 1 and time.monotonic() < deadline:
                page.wait_for_timeout(100)
        rows = _feedback_rows(shipped_assistant)[rows_before:]
        assert [r[0] for r in rows] == ["I am [email], tel [phone]: what is the Barnahus model?", ""]
        page.wait_for_timeout(500)
        stored = page.evaluate("() => [Object.keys(localStorage), Object.keys(sessionStorage), document.cookie]")
        assert set(stored[0]) <= {"cbss-assistant-locale", "cbss-assistant-country"}, stored
        assert stored[1] == [] and stored[2] == "", stored
    finally:
        context.close()


def _feedback_rows(assistant) -> list[tuple]:
    path = Path(assistant.settings.data_dir) / FEEDBACK_FILE
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT question, quote_ids FROM feedback ORDER BY id").fetchall()
