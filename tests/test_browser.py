"""The chat page in a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Nothing is installed here: `make browser` (run by `make test`) installs chromium and
chromium-driver from Debian and the test extra installs playwright from PyPI. Never
`playwright install`, which downloads its own browser.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import AXE_CORE, CHROMIUM

from assistant.feedback import quote_id
from assistant.i18n import language_name
from assistant.text import one_line
from assistant.web.page import _ALREADY, _THANKS, EXAMPLES, FEEDBACK_FILE, LABELS

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
BROWSER_LOCALE = {"en": "en-US", "pl": "pl-PL", "lt": "lt-LT", "uk": "uk-UA"}
SWITCH_TO = {"en": "de", "pl": "en", "lt": "uk", "uk": "lt"}  # the language each test switches to
ANSWER_TIMEOUT = 120_000  # ms; the first question loads the model and the language detector

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(`apt-get install -y chromium chromium-driver`, done by `make browser`)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright from PyPI (pip install -e '.[test]')")
expect = sync_api.expect


@pytest.fixture(scope="module", autouse=True)
def _timing():
    start = time.perf_counter()
    yield
    print(f"\nbrowser tests took {time.perf_counter() - start:.1f} s")


def _open(browser, url: str, locale: str, **context_options):
    context = browser.new_context(locale=BROWSER_LOCALE.get(locale, locale), **context_options)
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_selector("#question textarea")
    return context, page


def _expect_labels(page, assistant, locale: str) -> None:
    """Heading, language, placeholder and button texts are the catalogue's for ``locale``."""
    tr = assistant.catalogues.translator(locale)
    expect(page.locator("#heading h1")).to_have_text(tr.gettext(LABELS["title"]))
    expect(page).to_have_title(tr.gettext(LABELS["title"]))
    expect(page.locator("#language input")).to_have_value(language_name(locale))
    expect(page.locator("#question textarea")).to_have_attribute("placeholder", tr.gettext(LABELS["placeholder"]))
    expect(page.locator("#question")).to_contain_text(tr.gettext(LABELS["question"]))
    expect(page.locator("#send")).to_have_text(tr.gettext(LABELS["send"]))
    expect(page.locator("#clear")).to_have_text(tr.gettext(LABELS["clear"]))
    expect(page.locator("#feedback-up")).to_have_text(tr.gettext(LABELS["up"]))
    expect(page.locator("#example-0")).to_have_text(tr.gettext(EXAMPLES[0]))
    if locale != "en":
        english = assistant.catalogues.translator("en")
        for key in ("title", "placeholder", "send"):
            if tr.gettext(LABELS[key]) != LABELS[key]:  # translated in the catalogue: not English on the page
                assert tr.gettext(LABELS[key]) != english.gettext(LABELS[key])


def _choose_language(page, code: str) -> None:
    page.locator("#language input").click()
    page.locator(f'#language li[role="option"][aria-label="{language_name(code)}"]').click()


def _ask_and_wait(page, question: str, answer) -> None:
    """Type ``question``, press Enter and wait until the streamed answer and its source links are shown."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat blockquote").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat a[href^='http']").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat .message").last).to_contain_text(one_line(answer.quotes[-1].text)[:40],
                                                               timeout=ANSWER_TIMEOUT)


@pytest.mark.parametrize("locale", ["en", "pl", "lt", "uk"])
def test_chat_in_each_language(browser, app_url, shipped_assistant, locale):
    tr = shipped_assistant.catalogues.translator(locale)
    context, page = _open(browser, app_url, locale, viewport={"width": 1280, "height": 900})
    try:
        # First load: the language negotiated from Accept-Language labels the page.
        _expect_labels(page, shipped_assistant, locale)

        question = tr.gettext(EXAMPLES[0])
        answer = shipped_assistant.ask(question, locale=locale)
        assert answer.quotes, f"the {locale} example question should be answered by the shipped corpus"
        _ask_and_wait(page, question, answer)

        quotes_on_page = one_line(" ".join(page.locator("#chat blockquote").all_inner_texts()))
        assert any(one_line(q.text) in quotes_on_page for q in answer.quotes)
        urls = {q.citation.source_url for q in answer.quotes}
        chat_links = {a.get_attribute("href") for a in page.locator("#chat a[href]").all()}
        assert urls & chat_links, "no quote's source link in the chat"
        source_links = [a.get_attribute("href") for a in page.locator("#chat a[href^='http']").all()]
        assert source_links and set(source_links) <= urls and all(re.match(r"https?://", u) for u in source_links)
        assert page.locator("#sources").count() == 0, "sources are listed once, in the answer"
        # Links open beside the chat (it may be embedded in the site's page).
        assert {a.get_attribute("target") for a in page.locator("#chat a[href^='http']").all()} == {"_blank"}
        messages_before = page.locator("#chat .message").count()

        # Switch language: every label changes, the conversation stays.
        other = SWITCH_TO[locale]
        _choose_language(page, other)
        _expect_labels(page, shipped_assistant, other)
        expect(page.locator("#chat .message")).to_have_count(messages_before)
        expect(page.locator("#chat")).to_contain_text(one_line(question)[:30])
        assert one_line(quotes_on_page)[:60] in one_line(" ".join(page.locator("#chat blockquote").all_inner_texts()))

        # Feedback reaches SQLite with the question, the quote ids and the locale.
        comment = f"browser test {locale}"
        page.locator("#feedback-comment textarea").fill(comment)
        page.locator("#feedback-up").click()
        other_tr = shipped_assistant.catalogues.translator(other)
        expect(page.locator("#feedback-status")).to_have_text(other_tr.gettext(_THANKS))
        db = shipped_assistant.settings.data_dir / FEEDBACK_FILE
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT question, quote_ids, locale, rating FROM feedback WHERE comment = ?",
                                (comment,)).fetchall()
        assert rows == [(question, " ".join(quote_id(q) for q in answer.quotes), answer.locale, "up")]
        with sqlite3.connect(db) as conn:
            count = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
        page.locator("#feedback-down").click()  # one rating per answer
        expect(page.locator("#feedback-status")).to_have_text(other_tr.gettext(_ALREADY))
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == count

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"desktop-{locale}-answer.png"), full_page=True)

        # The explicit choice wins over Accept-Language on the next visit.
        page.reload()
        page.wait_for_selector("#question textarea")
        _expect_labels(page, shipped_assistant, other)
    finally:
        context.close()


def test_question_in_another_language_offers_to_switch(browser, app_url, shipped_assistant):
    context, page = _open(browser, app_url, "en", viewport={"width": 1280, "height": 900})
    try:
        question = "Od kiedy w Polsce obowiązuje zakaz kar cielesnych wobec dzieci?"
        answer = shipped_assistant.ask(question, locale="en")
        assert answer.detected_language == "pl" and answer.quotes
        _ask_and_wait(page, question, answer)
        switch = page.locator("#switch-language")
        expect(switch).to_be_visible()
        expect(switch).to_contain_text(language_name("pl"))
        switch.click()
        _expect_labels(page, shipped_assistant, "pl")
        expect(switch).to_be_hidden()
        expect(page.locator("#chat blockquote").first).to_be_visible()
    finally:
        context.close()


def test_phone_viewport_does_not_scroll_sideways(browser, app_url, shipped_assistant):
    context, page = _open(browser, app_url, "en", viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=2)
    try:
        overflow = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(overflow)
        question = shipped_assistant.catalogues.translator("en").gettext(EXAMPLES[2])
        _ask_and_wait(page, question, shipped_assistant.ask(question, locale="en"))
        page.locator("#help").click()  # open the helplines panel too
        assert page.evaluate(overflow), page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone-390x844.png"), full_page=True)
    finally:
        context.close()


def test_keyboard_alone_can_ask(browser, app_url, shipped_assistant):
    context, page = _open(browser, app_url, "en", viewport={"width": 1280, "height": 900})
    try:
        expect(page.locator("#heading h1")).to_have_text(
            shipped_assistant.catalogues.translator("en").gettext(LABELS["title"]))
        textarea = "document.activeElement && document.activeElement.closest('#question') !== null"
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(textarea):
                break
        assert page.evaluate(textarea), "Tab never reached the question box"
        question = shipped_assistant.catalogues.translator("en").gettext(EXAMPLES[0])
        page.keyboard.type(question)
        page.keyboard.press("Enter")
        expect(page.locator("#chat blockquote").first).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(page.locator("#chat")).to_contain_text(question)
        expect(page.locator("#chat a[href^='http']").first).to_be_visible(timeout=ANSWER_TIMEOUT)

        # Clear, from the keyboard too.
        page.locator("#clear").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#chat .message")).to_have_count(0)
    finally:
        context.close()


def test_lang_parameter_of_an_embedding_page_sets_the_language(browser, app_url, shipped_assistant):
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(app_url + "/?lang=lt")
        _expect_labels(page, shipped_assistant, "lt")
        assert page.evaluate("document.documentElement.lang") == "lt"
        expect(page).to_have_title(shipped_assistant.catalogues.translator("lt").gettext(LABELS["title"]))
    finally:
        context.close()


def test_controls_have_accessible_names(browser, app_url):
    context, page = _open(browser, app_url, "en", viewport={"width": 1280, "height": 900})
    try:
        for role, selector in (("combobox", "#language input"), ("textbox", "#question textarea"),
                               ("textbox", "#feedback-comment textarea")):
            element = page.locator(selector)
            name = element.get_attribute("aria-label") or page.evaluate(
                "(el) => el.labels && el.labels.length ? el.labels[0].innerText : ''", element.element_handle())
            assert name.strip(), f"{selector} has no accessible name"
        for button in ("#send", "#clear", "#feedback-up", "#feedback-down", "#example-0"):
            assert page.locator(button).inner_text().strip(), f"{button} has no text"
    finally:
        context.close()


def test_danger_notice_has_tel_links_and_follows_the_country_setting(browser, app_url, shipped_assistant):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(app_url + "/?country=SE")  # the site's Swedish pages say where the reader is
        page.wait_for_selector("#question textarea")
        page.locator("#help").click()  # the help panel holds the "Where are you?" selector
        expect(page.locator("#country input")).to_have_value("Sweden")
        message = "my dad hits me and im scared to go home"
        assert shipped_assistant.ask(message, locale="en", country="SE").notice is not None
        box = page.locator("#question textarea")
        box.fill(message)
        box.press("Enter")
        last = page.locator("#chat .message").last
        expect(last.locator('a[href="tel:112"]')).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(last.locator('a[href="tel:116111"]').first).to_be_visible()
        text = one_line(last.inner_text())
        assert text.index("112") < text.index("BRIS"), text[:300]
        assert "BørneTelefonen" not in text.split("BRIS")[0]  # the chosen country first, the rest after
        expect(last.locator("details summary")).to_have_count(1)  # the other countries, collapsed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        last.screenshot(path=str(SCREENSHOTS / "danger-notice-phone.png"))
        expect(page.locator('#help-text a[href="tel:1717"]')).to_be_visible()

        # A choice made on the page is kept in this browser for the next visit.
        page.locator("#country input").click()
        page.locator('#country li[role="option"][aria-label="Finland"]').click()
        expect(page.locator("#help-text")).to_contain_text("MLL Lasten ja nuorten puhelin")
        page.wait_for_timeout(500)  # BrowserState writes to localStorage after the event
        page.goto(app_url + "/")
        page.wait_for_selector("#question textarea")
        page.locator("#help").click()
        expect(page.locator("#country input")).to_have_value("Finland")
    finally:
        context.close()


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_phone_first_screen_has_help_the_question_box_and_send(browser, app_url, shipped_assistant):
    context, page = _open(browser, app_url, "en", viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=2)
    try:
        for selector in ("#help-bar a[href='tel:112']", "#question textarea", "#send", "#quick-exit"):
            box = _box(page, selector)
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, (selector, box)
        assert _box(page, "#question")["width"] >= 0.95 * _box(page, "#help-bar")["width"], "the question box is full width"
        assert _box(page, "#chat")["height"] < 200, "no empty chat box is reserved before the first question"

        message = "my dad hits me and im scared to go home, where is a barnahus"
        box = page.locator("#question textarea")
        box.fill(message)
        box.press("Enter")
        expect(page.locator("#chat .message").last.locator("a[href='tel:112']")).to_be_visible(timeout=ANSWER_TIMEOUT)
        page.wait_for_timeout(1000)  # the answer has streamed; the view moves to its start
        top = page.evaluate("(() => { const r = document.querySelectorAll('#chat .message-row.bot-row'); "
                            "return r[r.length - 1].getBoundingClientRect().top; })()")
        assert 0 <= top < 844 / 2, f"the answer starts at {top} px, not near the top of the screen"
        expect(page.locator("#quick-exit")).to_be_in_viewport()  # still in reach after scrolling
        live = page.locator("#chat [role=log][aria-live=polite]")  # a screen reader announces the answer
        expect(live).to_have_count(1)
        expect(live.locator("a[href='tel:112']").first).to_be_attached()
        assert page.locator("#chat .icon-button-wrapper.top-panel").is_hidden(), "one clear control: the page's"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone-390x844-notice.png"))
    finally:
        context.close()


def test_desktop_shows_the_question_box_without_scrolling(browser, app_url):
    context, page = _open(browser, app_url, "en", viewport={"width": 1280, "height": 800})
    try:
        box = _box(page, "#question textarea")
        assert box["y"] + box["height"] <= 800, box
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "desktop-1280x800.png"))
    finally:
        context.close()


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_replaces_the_page_at_once(browser, app_url, shipped_assistant, how):
    exit_url = shipped_assistant.settings.exit_url
    context, page = _open(browser, app_url, "pl", viewport={"width": 390, "height": 844})
    try:
        tr = shipped_assistant.catalogues.translator("pl")
        expect(page.locator("#quick-exit")).to_have_text(tr.gettext(LABELS["exit"]))
        question = tr.gettext(EXAMPLES[0])
        _ask_and_wait(page, question, shipped_assistant.ask(question, locale="pl"))
        history = page.evaluate("history.length")
        # The neutral site cannot be reached from this machine: a stand-in page answers for it, so the
        # navigation completes (a failed lookup left the context mid-navigation and evaluate() racing it).
        context.route(exit_url, lambda route: route.fulfill(status=200, content_type="text/html",
                                                            body="<title>neutral</title>"))
        with page.expect_request(lambda r: r.url == exit_url and r.is_navigation_request(), timeout=10_000):
            if how == "button":
                page.locator("#quick-exit").click()
            else:
                page.locator("#question textarea").click()
                for _ in range(3):
                    page.keyboard.press("Escape")
        page.wait_for_url(exit_url, timeout=10_000)
        page.wait_for_load_state()
        assert page.locator("#quick-exit").count() == 0, "the chat is gone"
        assert page.evaluate("history.length") == history, "replaced, not added: Back does not return to the chat"
    finally:
        context.close()


DANGER_MESSAGES = {"en": "my dad hits me and im scared to go home", "pl": "tata mnie bije i boję się wracać do domu",
                   "lt": "tėtis mane muša ir aš bijau grįžti namo", "uk": "тато мене б'є, і я боюся йти додому"}
_AXE_RUN = ("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)")


@pytest.mark.skipif(not AXE_CORE.exists(), reason=f"needs axe-core at {AXE_CORE} (`make browser` installs it with npm)")
@pytest.mark.parametrize("locale", ["en", "pl", "lt", "uk"])
def test_axe_core_finds_no_serious_violations(browser, app_url, locale):
    context, page = _open(browser, app_url, locale, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page.wait_for_timeout(1000)  # the labels of the negotiated language are in place
        page.add_script_tag(path=str(AXE_CORE))
        found = {"empty page": page.evaluate(_AXE_RUN)}
        box = page.locator("#question textarea")
        box.fill(DANGER_MESSAGES[locale])  # the safety notice, open, then the answer
        box.press("Enter")
        expect(page.locator("#chat .message").last.locator("a[href='tel:112']")).to_be_visible(timeout=ANSWER_TIMEOUT)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"phone-{locale}-notice.png"))  # the view shows the notice's start
        page.locator("#help").click()  # the full list of helplines open too
        page.wait_for_timeout(500)
        found["notice and helplines open"] = page.evaluate(_AXE_RUN)
        assert found == {"empty page": [], "notice and helplines open": []}, found
    finally:
        context.close()


@pytest.fixture(scope="module")
def template_ids() -> list[str]:
    """Every English msgid of the catalogues' template (both forms of plural messages)."""
    from babel.messages.pofile import read_po

    with (Path(__file__).resolve().parent.parent / "translations" / "messages.pot").open("rb") as fh:
        ids = [m.id for m in read_po(fh) if m.id]
    return [i for m in ids for i in (m if isinstance(m, tuple) else (m,))]


_VISIBLE_STRINGS = """() => {
  const out = [];
  const shown = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const walk = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    let node;
    while ((node = walker.nextNode())) {
      if (node.nodeType === Node.TEXT_NODE) {
        const el = node.parentElement;
        const announced = el && el.closest('[role=status], [aria-live]');
        if (node.textContent.trim() && el && !el.closest('style, script') && (shown(el) || announced)) out.push(node.textContent.trim());
      } else {
        for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
          const value = node.getAttribute(name);
          if (value && shown(node)) out.push(value.trim());
        }
        if (node.shadowRoot) walk(node.shadowRoot);
      }
    }
  };
  walk(document.body);
  return out;
}"""
_FRAGMENT = re.compile(r"\{[^}]*\}|[*_\[\]()“”„\"«»]")
# Names Gradio gives for screen readers in English in every language (not i18n keys).
_GRADIO_ENGLISH_NAMES = ("chatbot conversation", "bot's message", "user's message", "Gradio footer navigation")


def _fragments(text: str) -> set[str]:
    return {f.strip(" .,:;!?–-") for f in _FRAGMENT.split(text)} - {""}


@pytest.mark.parametrize("locale", ["da", "de", "et", "fi", "is", "lv", "lt", "nb", "pl", "sv", "uk"])
def test_no_english_ui_string_is_left_on_the_page(browser, app_url, shipped_assistant, template_ids, locale):
    """An English browser opens the page of the site in ``locale``: every label, ours and Gradio's,
    is in that language (the documents' own words and the helplines' names are not UI strings)."""
    tr = shipped_assistant.catalogues.translator(locale)
    english = set().union(*(_fragments(m) for m in template_ids))
    translated = set().union(*(_fragments(tr.gettext(m)) for m in template_ids))
    forbidden = {f for f in english - translated if len(f) > 3}
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/?lang={locale}")
        page.wait_for_function(f"document.documentElement.lang === '{locale}'", timeout=30_000)
        # The language selector settles a moment after the labels switch; a question sent before
        # would be framed in the browser's language (a person cannot type that fast).
        expect(page.locator("#language input")).to_have_value(language_name(locale), timeout=30_000)
        question = tr.gettext(EXAMPLES[0])
        _ask_and_wait(page, question, shipped_assistant.ask(question, locale=locale))
        page.locator("#help").click()
        page.wait_for_timeout(1000)
        seen = page.evaluate(_VISIBLE_STRINGS)
        left = sorted({s for s in seen if _fragments(s) & forbidden or re.fullmatch(r"(common|chatbot|errors|status)\.\w+", s)
                       or any(name in s for name in _GRADIO_ENGLISH_NAMES)})
        assert left == [], f"English on the {locale} page: {left}"
        assert page.locator("#chat [role=log]").get_attribute("aria-label") == tr.gettext(LABELS["chat"])
    finally:
        context.close()
