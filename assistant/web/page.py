"""The Gradio page: ``build_app(assistant)`` returns a ``gr.Blocks``; ``serve()`` launches it.

Handlers only call the service (``Assistant.ask``) and the feedback store; every text they
show comes from the Babel catalogues. Static labels reach the browser through ``gr.I18n``
built from the same catalogues (so the first paint is already in the browser's language);
the language selector and the Accept-Language negotiation on load then set every label
server-side, so a switch needs no reload and keeps the conversation.

Gradio is imported inside the functions: importing this module stays cheap and offline.
"""

# No ``from __future__ import annotations`` here: Gradio reads the real type hints of the
# API function (``gr.api``) and of ``request: gr.Request`` parameters.

import copy
import importlib.abc
import importlib.machinery
import inspect
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ..citations import escape_markdown
from ..config import LOCALES, apply_offline_env
from ..errors import InputError
from ..feedback import FEEDBACK_FILE, FeedbackStore, quote_id
from ..i18n import N_, Catalogues, Translator, country_for_locale, country_name, language_name, negotiate
from ..safeguarding import render_notice
from ..types import Answer, SafeguardingNotice, Turn
from .limits import RateLimit, client_address
from .middleware import HEIGHT_MESSAGE, ApiDefaults, EmbedScript, PageIdentity, SecurityHeaders

if TYPE_CHECKING:
    import gradio as gr

    from ..service import Assistant

__all__ = ["build_app", "launch_options", "serve", "LABELS", "EXAMPLES", "API_NAME", "FEEDBACK_FILE"]

log = logging.getLogger(__name__)

API_NAME = "respond"
FAVICON = Path(__file__).resolve().parent.parent / "data" / "favicon.svg"

# Static labels: key -> msgid. The same msgids feed gr.I18n (first paint) and the
# per-session relabelling, so the catalogues are the one source of truth.
LABELS: dict[str, str] = {
    "title": N_("Child protection guidance assistant"),
    "exit": N_("Leave this page"),
    "intro": N_(
        "This assistant answers questions about child protection in the Baltic Sea region by "
        "quoting documents of the Council of the Baltic Sea States word for word, with a link to each source."
    ),
    "not_emergency": N_("It is not an emergency service and it cannot call anyone for you."),
    "help": N_("Emergency numbers and child helplines"),
    "language": N_("Language"),
    "country": N_("Where are you?"),
    "chat": N_("Conversation"),
    "chat_placeholder": N_("Ask a question about child protection. The answer quotes the documents and links to them."),
    "question": N_("Your question"),
    "placeholder": N_("Type your question here and press Enter"),
    "send": N_("Send"),
    "clear": N_("Clear conversation"),
    "examples": N_("Example questions"),
    "rate": N_("Was this answer helpful?"),
    "comment": N_("Comment (optional)"),
    "comment_placeholder": N_("What was missing or wrong? Please do not write names or other personal details."),
    "up": N_("Yes, helpful"),
    "down": N_("No, not helpful"),
}

# Gradio's own strings on this page (its i18n keys → our msgids), sent with ours through gr.I18n
# so that they too come from the catalogues: Gradio ships no Danish, Icelandic or Latvian, and
# it announces "common.complete" to screen readers, a key it has in no language.
GRADIO_LABELS: dict[str, str] = {
    "chatbot.copy_message": N_("Copy message"),
    "chatbot.copied_message": N_("Message copied"),
    "chatbot.clear": LABELS["clear"],
    "common.clear": N_("Clear"),
    "common.complete": N_("Done"),
    "common.error": N_("Error"),
    "common.loading": N_("Loading"),
    "common.progress": N_("Progress"),
    "common.logo": N_("Logo of Gradio"),
    "common.built_with_gradio": N_("Built with Gradio"),
    "status.queue_position": N_("In queue: {position} of {size}"),
    "errors.use_via_api": N_("Use via API"),
}

# Questions the shipped corpus answers; shown as buttons in the interface language.
EXAMPLES: tuple[str, ...] = (
    N_("What is the Barnahus model?"),
    N_("When did Sweden ban corporal punishment of children?"),
    N_("What do the PROMISE Barnahus Quality Standards cover?"),
)

_EXIT_HINT = N_("To leave this page quickly, press “{exit}” or Esc three times.")
# Gradio's own strings follow the page's language, not the browser's: its core module (already
# loaded by the page, so import() returns that same instance) exports changeLocale.
_GRADIO_LOCALE_JS = ("const core = performance.getEntriesByType('resource').map((e) => e.name)"
                     ".find((name) => /\\/assets\\/core-[^/]*\\.js$/.test(name)); "
                     "if (core) { try { await (await import(core)).changeLocale(locale); } catch (e) { } }")
# After an answer the view shows its start (the notice first, when there is one), not the chat's end.
_SHOW_ANSWER_JS = ("() => { const rows = document.querySelectorAll('#chat .message-row.bot-row'); "
                   "if (rows.length) rows[rows.length - 1].scrollIntoView({block: 'start'}); }")
_FOOTER = N_("Page footer")
# Gradio names three things for screen readers in English whatever the language: the chat log
# ("chatbot conversation"), each message ("bot's message: " and its raw Markdown, which a
# screen reader would read instead of the text) and the footer. The page renames the log and
# the footer in its language and takes the messages' labels off (the text itself is read).
_ARIA_JS = ("const fix = () => { const l = labels[document.documentElement.lang] || labels.en; "
            "for (const [sel, name] of [['#chat [role=log]', l.chat], ['footer', l.footer]]) "
            "for (const e of document.querySelectorAll(sel)) if (e.getAttribute('aria-label') !== name) e.setAttribute('aria-label', name); "
            "for (const e of document.querySelectorAll('#chat [data-testid=bot][aria-label], #chat [data-testid=user][aria-label]')) "
            "e.removeAttribute('aria-label'); }; "
            "if (!window.cbssNames) { window.cbssNames = new MutationObserver(fix); window.cbssNames.observe(document.body, "
            "{subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']}); } "
            "fix();")
_SEARCHING = N_("Searching the documents…")
_FAILED = N_("Sorry, the assistant could not answer just now. Please try again in a moment. In an emergency, call {number}.")
_SWITCH = N_("Switch to {language}")
_THANKS = N_("Thank you, your feedback was saved.")
_ALREADY = N_("You have already rated this answer. Thank you!")
_NOTHING_TO_RATE = N_("Ask a question first, then rate the answer.")
_NO_COUNTRY = N_("Not chosen")
_TOO_MANY = N_("You have sent many messages in a short time. Please wait a minute, then ask again.")
_NOT_SAVED = N_("Sorry, your feedback could not be saved just now. Please try again later.")
_UNKNOWN_LOCALE = N_("Locale {locale} is not supported; use one of {locales}.")

CSS = """
.gradio-container { max-width: 980px !important; margin: 0 auto !important; padding-top: 44px !important; }
#chat .message, #chat .prose, #help, #help-bar { overflow-wrap: anywhere; word-break: break-word; }
#chat .message-row { scroll-margin-top: 52px; }  /* the answer start is not hidden under the quick exit */
#chat blockquote { border-left: 4px solid var(--color-accent); margin: .5em 0; padding: .2em .8em; }
/* Always in reach, on every screen: the quick exit stays in the corner while the page scrolls. */
/* Red-700 under white text: WCAG 2.1 AA contrast (axe-core). */
#quick-exit { position: fixed; top: 6px; right: 6px; z-index: 1000; width: auto; max-width: 60vw; box-shadow: 0 1px 4px rgba(0,0,0,.3);
              background: #b91c1c !important; border-color: #b91c1c !important; color: #fff !important; }
#top-bar { align-items: flex-end; }
#heading h1 { font-size: clamp(1.3rem, 5vw, 2.1rem); margin: 0; overflow-wrap: normal; word-break: normal; hyphens: auto; }
#help-bar { font-weight: 600; }
/* One clear control: the page's translated button, not the chat's own (English-only) bin icon. */
#chat .icon-button-wrapper.top-panel { display: none !important; }
#help-bar a { white-space: nowrap; }
#language, #country { max-width: 16rem; }
#help li strong { white-space: nowrap; }  /* keep a number like "116 111" on one line */
#examples button, #feedback-buttons button { white-space: normal; }
:focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
/* WCAG 2.1 AA contrast (axe-core): white on blue-700, the footer link in grey-700. */
#send { background: #1d4ed8 !important; border-color: #1d4ed8 !important; color: #fff !important; }
footer .show-api, footer a, footer button { color: #374151 !important; }
@media (max-width: 480px) {
  .gradio-container { padding: 44px 6px 0 !important; }
  #language, #country { max-width: none; }
  #intro { font-size: .9rem; }
  #send { width: 100%; }
}
"""


def _import_gradio() -> Any:
    apply_offline_env()
    if "gradio" not in sys.modules:
        sys.meta_path.insert(0, _NoStubUpkeep())
    try:
        import gradio as gr
    finally:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _NoStubUpkeep)]
    _defer_session_configs()
    return gr


class _NoStubUpkeep(importlib.abc.MetaPathFinder):
    """Gradio's component metaclass reads and parses the source of every component class as it
    is created, to keep the ``.pyi`` type stubs beside it up to date for editors (and rewrites
    them inside site-packages when they differ): half of ``import gradio`` here, 1.1 of 2.1 s
    of the server's start-up. This finder loads ``gradio.component_meta`` as usual, then makes
    that upkeep a no-op; nothing at run time uses the stubs. Should Gradio drop or rename the
    function, the module loads untouched."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "gradio.component_meta":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            if callable(getattr(module, "create_or_modify_pyi", None)):
                module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class _LazyConfigs(dict):
    """A session's per-component configs, each built when first read instead of all at once.

    Gradio's ``SessionState`` builds the config of every component of the page when a session
    starts (42 here, each through ``inspect.signature``: 1.5 ms, on the event loop). Every call
    of the HTTP API is a new session, so under load that was a third of the event loop's time,
    while an API call reads none of them. Reading one builds it; iterating (deep links) builds
    the rest, from the same blocks, so the contents are what Gradio would hold."""

    def __init__(self, blocks_config: Any, ids: list[int]) -> None:
        super().__init__()
        self._blocks_config, self._ids = blocks_config, ids

    def _build(self, key: int) -> dict:
        return self._blocks_config.config_for_block(key, [], self._blocks_config.blocks[key])

    def __missing__(self, key: int) -> dict:
        if key not in self._ids:
            raise KeyError(key)
        value = self[key] = self._build(key)
        return value

    def _complete(self) -> None:
        for key in self._ids:
            if not dict.__contains__(self, key):
                dict.__setitem__(self, key, self._build(key))
        self._ids = []

    def __iter__(self):  # type: ignore[override]
        self._complete()
        return super().__iter__()

    def __len__(self) -> int:
        self._complete()
        return super().__len__()

    def items(self):  # type: ignore[override]
        self._complete()
        return super().items()

    def values(self):  # type: ignore[override]
        self._complete()
        return super().values()

    def keys(self):  # type: ignore[override]
        self._complete()
        return super().keys()


def _defer_session_configs() -> None:
    """Make Gradio's ``SessionState`` build its component configs lazily (see ``_LazyConfigs``).

    The replacement does what Gradio 6's ``__init__`` does with the configs left lazy; should a
    Gradio release add or rename what a session holds, the original is kept."""
    from gradio.state_holder import SessionState

    original = SessionState.__init__
    if getattr(original, "_lazy_configs", False):
        return

    def __init__(self: Any, blocks: Any) -> None:
        self.blocks_config = copy.copy(blocks.default_config)
        self.config_values = _LazyConfigs(self.blocks_config,
                                          [k for k in self.blocks_config.blocks if k in blocks.blocks])
        self.state_data, self._state_ttl, self.is_closed = {}, {}, False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    __init__._lazy_configs = True  # type: ignore[attr-defined]
    __init__._original = original  # type: ignore[attr-defined]
    source = inspect.getsource(original)
    if all(f"self.{name}" in source for name in _SESSION_FIELDS):
        SessionState.__init__ = __init__  # type: ignore[method-assign]


# What Gradio 6's SessionState.__init__ sets; tests/test_web.py checks that a session made by
# the replacement holds the same attributes and, once read, the same configs as Gradio's own.
_SESSION_FIELDS = ("blocks_config", "config_values", "state_data", "_state_ttl", "is_closed", "STATE_TTL_WHEN_CLOSED")


def build_i18n(catalogues: Catalogues) -> "gr.I18n":
    """``gr.I18n`` with every static label, ours and Gradio's, in every locale, from the Babel catalogues."""
    gr = _import_gradio()
    return gr.I18n(**{loc: {key: catalogues.translator(loc).gettext(msgid)
                            for key, msgid in {**LABELS, **GRADIO_LABELS}.items()} for loc in LOCALES})


def launch_options(assistant: "Assistant") -> dict[str, Any]:
    """Arguments for ``Blocks.launch`` that belong to the page (i18n, css, theme, footer, and the
    HTTP layer: security headers, the API's defaults)."""
    gr = _import_gradio()
    from starlette.middleware import Middleware

    settings = assistant.settings
    cats = assistant.catalogues

    def page_locale(lang: str, accept_language: str | None) -> str:  # as on_load, before a choice is known
        lang = lang.strip().lower()
        return lang if lang in LOCALES else negotiate(accept_language, default=settings.default_locale)

    middleware = [
        Middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors),
        Middleware(ApiDefaults, defaults={API_NAME: ["", settings.default_locale, ""]}),
        Middleware(EmbedScript),
        Middleware(PageIdentity, negotiate=page_locale,
                   titles={loc: cats.translator(loc).gettext(LABELS["title"]) for loc in LOCALES},
                   descriptions={loc: cats.translator(loc).gettext(LABELS["intro"]) for loc in LOCALES}),
    ]
    return {
        "app_kwargs": {"middleware": middleware},
        "favicon_path": str(FAVICON),
        "js": _on_load_js(settings.exit_url),  # the quick-exit shortcut; the height for an embedding page
        "i18n": build_i18n(assistant.catalogues),
        "css": CSS,
        "theme": gr.themes.Default(primary_hue="blue"),  # local fonts only; white on blue-600 reads well
        "footer_links": ["api"],
        "run_history": False,  # nothing about a conversation is kept in the browser
        "ssr_mode": False,
        "show_error": False,
    }


def _quote_ids(answer: Answer) -> list[str]:
    return [quote_id(q) for q in answer.quotes]


def _emergency_number(assistant: "Assistant") -> str:
    """The emergency number from the safeguarding data (never written in code)."""
    return str(assistant.safeguarding.emergency)


def _help_country(tr: Translator, country: str | None) -> str | None:
    """Whose helpline comes first: the chosen country, else the page language's."""
    return (country or "").upper() or country_for_locale(tr.locale) or None


def render_help(assistant: "Assistant", tr: Translator, country: str | None = None) -> str:
    """The help panel: every helpline, the chosen country's (else the page language's) first and in full."""
    safeguarding = assistant.safeguarding
    helplines = safeguarding.helplines(_help_country(tr, country))
    return render_notice(SafeguardingNotice(emergency=safeguarding.emergency, helplines=helplines), tr)


def render_help_bar(assistant: "Assistant", tr: Translator, country: str | None = None) -> str:
    """One line at the top: 112 and the chosen country's (else the page language's) helpline, as tel: links."""
    return assistant.safeguarding.help_line(_help_country(tr, country), tr)


def _exit_js(url: str) -> str:
    """Statements that empty the page at once and replace it (and its history entry) with ``url``."""
    return f"document.body.innerHTML = ''; window.location.replace({json.dumps(url)});"


def _on_load_js(url: str) -> str:
    """Run once the page has loaded: Escape pressed three times within 1.5 s leaves the page, as
    the quick-exit button does; in an iframe, the page's height goes to the embedding page
    (``/embed.js`` there sets the iframe's height), so the frame fits the conversation."""
    return ("() => { let count = 0, at = 0; document.addEventListener('keydown', (event) => { "
            "if (event.key !== 'Escape') return; const now = Date.now(); count = now - at < 1500 ? count + 1 : 1; "
            f"at = now; if (count >= 3) {{ {_exit_js(url)} }} }}, true); "
            "if (window.parent === window) return; "
            "const page = document.querySelector('.gradio-container') || document.body; "
            f"const post = () => window.parent.postMessage({{type: {json.dumps(HEIGHT_MESSAGE)}, "
            "height: Math.ceil(page.getBoundingClientRect().height) + 24}, '*'); "
            "new ResizeObserver(post).observe(page); post(); }")


def country_choices(assistant: "Assistant", tr: Translator) -> list[tuple[str, str]]:
    """(name in the interface language, ISO code) of every country with a helpline, after "not chosen"."""
    named = [(country_name(h.country, tr.locale) or h.country, h.country) for h in assistant.safeguarding.helplines()]
    return [(tr.gettext(_NO_COUNTRY), "")] + sorted(named)


def chosen_country(assistant: "Assistant", value: object) -> str:
    """A country code the helplines know, from a selector, ?country= or the API; '' otherwise."""
    code = value.strip().upper() if isinstance(value, str) else ""
    return code if assistant.safeguarding.helpline(code) else ""


def _intro(assistant: "Assistant", tr: Translator) -> str:
    return " ".join([
        tr.gettext(LABELS["intro"]),
        tr.gettext(LABELS["not_emergency"]),
        tr.gettext(_EXIT_HINT).format(exit=tr.gettext(LABELS["exit"])),
    ])


def _error_text(exc: Exception, tr: Translator, emergency: str) -> str:
    """A readable message for the chat, in the UI language; never a traceback."""
    if isinstance(exc, InputError) and getattr(exc, "message", None):
        try:
            return tr.gettext(exc.message).format(**exc.params)
        except (KeyError, IndexError, ValueError):
            return str(exc)
    return tr.gettext(_FAILED).format(number=emergency)  # plain: also raised as an API error


def _blocks(text: str) -> Iterator[str]:
    """Growing prefixes of ``text``, one Markdown block (paragraph, quote, list) more each time."""
    parts = text.split("\n\n")
    for i in range(1, len(parts) + 1):
        yield "\n\n".join(parts[:i])


def build_app(assistant: "Assistant") -> "gr.Blocks":
    """The chat page for ``assistant`` (launch it with ``serve`` or ``launch(**launch_options(...))``).

    Every handler returns ``{component: update}``: what it changes, by name."""
    gr = _import_gradio()
    cats = assistant.catalogues
    settings = assistant.settings
    default_locale = settings.default_locale
    store = FeedbackStore.for_settings(settings)
    limit = RateLimit(settings.rate_limit)
    i18n = build_i18n(cats)
    emergency = _emergency_number(assistant)
    default_tr = cats.translator(default_locale)
    choices = [(language_name(code) or code, code) for code in LOCALES]

    def tr_of(locale: str | None) -> Translator:
        return cats.translator(locale if locale in LOCALES else default_locale)

    def over_limit(request: "gr.Request | None") -> bool:
        """Counts the message; True when its sender has sent too many in the last minute."""
        if request is None:
            return False
        peer = request.client.host if request.client else None
        return not limit.allow(client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies))

    def wait_text(tr: Translator, where: str | None) -> str:
        return tr.gettext(_TOO_MANY) + "\n\n" + assistant.safeguarding.help_line(chosen_country(assistant, where) or None, tr)

    # gr.I18n does not translate the document title; set_lang_js below does.
    with gr.Blocks(title=default_tr.gettext(LABELS["title"]), analytics_enabled=False) as demo:
        saved_locale = gr.BrowserState(None, storage_key="cbss-assistant-locale")
        saved_country = gr.BrowserState(None, storage_key="cbss-assistant-country")
        turns = gr.State([])  # (question, answer text) of earlier exchanges, for follow-ups
        last = gr.State(None)  # the last answer, for feedback
        switch_to = gr.State(None)

        exit_btn = gr.Button(i18n("exit"), elem_id="quick-exit", variant="stop", size="sm", min_width=0)
        with gr.Row(elem_id="top-bar", equal_height=False):
            with gr.Column(scale=4, min_width=240):  # on a phone the selector wraps below the heading
                heading = gr.Markdown("# " + i18n("title"), elem_id="heading")
            language = gr.Dropdown(choices, value=default_locale, label=i18n("language"), elem_id="language",
                                   filterable=False, interactive=True, scale=1, min_width=180)
        help_bar = gr.Markdown(render_help_bar(assistant, default_tr), elem_id="help-bar")
        with gr.Accordion(i18n("help"), open=False, elem_id="help") as help_box:
            # The helpline shown first in a safety notice, in the help bar and below; remembered in this browser.
            country = gr.Dropdown(country_choices(assistant, default_tr), value="", label=i18n("country"),
                                  elem_id="country", filterable=False, interactive=True)
            help_md = gr.Markdown(render_help(assistant, default_tr), elem_id="help-text")
        intro = gr.Markdown(_intro(assistant, default_tr), elem_id="intro")

        # The chat grows with the conversation (no empty box reserved) and does not jump to its
        # end: after an answer the page shows the answer's start (show_answer_js).
        chatbot = gr.Chatbot(label=i18n("chat"), elem_id="chat", placeholder=i18n("chat_placeholder"),
                             feedback_options=None, buttons=["copy"], height=None, min_height=None, max_height=None,
                             autoscroll=False, show_label=False, group_consecutive_messages=False,
                             latex_delimiters=[])  # "$$" in a document or a message is text, not a formula
        switch_btn = gr.Button("", visible=False, size="sm", elem_id="switch-language")
        with gr.Row(elem_id="ask-row"):
            question_box = gr.Textbox(label=i18n("question"), placeholder=i18n("placeholder"), elem_id="question",
                                      lines=1, max_lines=6, scale=5, min_width=320,
                                      max_length=settings.max_message_chars,
                                      html_attributes=gr.InputHTMLAttributes(enterkeyhint="send", autocomplete="off"))
            send = gr.Button(i18n("send"), variant="primary", elem_id="send", scale=1, min_width=100)
        with gr.Column(elem_id="examples"):
            examples_md = gr.Markdown("**" + i18n("examples") + "**", elem_id="examples-label")
            with gr.Row():
                example_btns = [gr.Button(default_tr.gettext(q), size="sm", elem_id=f"example-{i}", min_width=120)
                                for i, q in enumerate(EXAMPLES)]
        with gr.Column(elem_id="feedback"):
            rate_md = gr.Markdown("**" + i18n("rate") + "**", elem_id="feedback-label")
            comment = gr.Textbox(label=i18n("comment"), placeholder=i18n("comment_placeholder"), lines=1,
                                 max_lines=4, max_length=2000, elem_id="feedback-comment")
            with gr.Row(elem_id="feedback-buttons"):
                up = gr.Button(i18n("up"), elem_id="feedback-up", size="sm", min_width=120)
                down = gr.Button(i18n("down"), elem_id="feedback-down", size="sm", min_width=120)
            feedback_status = gr.Markdown("", elem_id="feedback-status")
        clear = gr.Button(i18n("clear"), elem_id="clear", size="sm", variant="secondary")

        # -- quick exit: no server round trip; replace() leaves no history entry to come back to --
        exit_btn.click(None, None, None, js=f"() => {{ {_exit_js(settings.exit_url)} }}")

        # -- language ----------------------------------------------------------------------
        labelled = [language, country, exit_btn, heading, help_bar, help_box, help_md, intro, chatbot, question_box,
                    send, examples_md, *example_btns, rate_md, comment, up, down, clear, switch_btn, feedback_status]

        def relabel(locale: str, where: str = "") -> dict:
            tr = tr_of(locale)
            t = {key: tr.gettext(msgid) for key, msgid in LABELS.items()}
            return {
                language: gr.Dropdown(value=tr.locale, label=t["language"]),
                country: gr.Dropdown(choices=country_choices(assistant, tr), value=where, label=t["country"]),
                exit_btn: gr.Button(value=t["exit"]),
                heading: "# " + t["title"],
                help_bar: render_help_bar(assistant, tr, where),
                help_box: gr.Accordion(label=t["help"]),
                help_md: render_help(assistant, tr, where),
                intro: _intro(assistant, tr),
                chatbot: gr.Chatbot(label=t["chat"], placeholder=t["chat_placeholder"]),
                question_box: gr.Textbox(label=t["question"], placeholder=t["placeholder"]),
                send: gr.Button(value=t["send"]),
                examples_md: f"**{t['examples']}**",
                **{btn: gr.Button(value=tr.gettext(q)) for btn, q in zip(example_btns, EXAMPLES)},
                rate_md: f"**{t['rate']}**",
                comment: gr.Textbox(label=t["comment"], placeholder=t["comment_placeholder"]),
                up: gr.Button(value=t["up"]),
                down: gr.Button(value=t["down"]),
                clear: gr.Button(value=t["clear"]),
                switch_btn: gr.Button(visible=False),
                feedback_status: "",
            }

        def on_load(saved: str | None, saved_where: str | None, request: gr.Request) -> dict:
            # A person's explicit earlier choice (kept in this browser) wins; then the embedding
            # page's ?lang= / ?country=; then the browser's Accept-Language.
            params = request.query_params if request is not None else {}
            wanted = params.get("lang", "")
            where = chosen_country(assistant, saved_where) or chosen_country(assistant, params.get("country", ""))
            if saved in LOCALES:
                locale = saved
            elif wanted.lower() in LOCALES:
                locale = wanted.lower()
            else:
                header = request.headers.get("accept-language") if request is not None else None
                locale = negotiate(header, default=default_locale)
            return relabel(locale, where)

        def on_choose(locale: str, where: str) -> dict:
            return {**relabel(locale, chosen_country(assistant, where)), saved_locale: locale}

        def on_country(where: str, locale: str) -> dict:
            where = chosen_country(assistant, where)
            tr = tr_of(locale)
            return {help_md: render_help(assistant, tr, where), help_bar: render_help_bar(assistant, tr, where),
                    saved_country: where}

        # The page's lang attribute (for screen readers) and the tab title follow the selector, once
        # Gradio's own labels have switched (so lang never announces a language the page is not in yet).
        labels = json.dumps({loc: {"title": tr.gettext(LABELS["title"]), "chat": tr.gettext(LABELS["chat"]),
                                   "footer": tr.gettext(_FOOTER)}
                             for loc in LOCALES for tr in [cats.translator(loc)]}, ensure_ascii=False)
        set_lang_js = (f"async (locale) => {{ const labels = {labels}; if (!locale || !labels[locale]) return; "
                       f"{_GRADIO_LOCALE_JS} "
                       f"document.documentElement.lang = locale; document.title = labels[locale].title; {_ARIA_JS} }}")
        private = dict(api_visibility="private", queue=False)
        demo.load(on_load, [saved_locale, saved_country], labelled, **private).then(None, language, None, js=set_lang_js)
        language.input(on_choose, [language, country], [*labelled, saved_locale], **private).then(
            None, language, None, js=set_lang_js)
        switch_btn.click(on_choose, [switch_to, country], [*labelled, saved_locale], **private).then(
            None, language, None, js=set_lang_js)
        country.input(on_country, [country, language], [help_md, help_bar, saved_country], **private)

        # -- chat --------------------------------------------------------------------------
        def chat_turn(text: str, chat: list, history: list, locale: str, where: str, request: gr.Request):
            tr = tr_of(locale)
            chat = list(chat or [])
            text = text if isinstance(text, str) else ""
            if text.strip():  # shown as typed: what a person writes is text, never markup
                chat.append({"role": "user", "content": escape_markdown(text)})
            if over_limit(request):  # the text stays in the box, to send again after a minute
                yield {chatbot: [*chat, {"role": "assistant", "content": wait_text(tr, where)}], feedback_status: ""}
                return
            chat.append({"role": "assistant", "content": tr.gettext(_SEARCHING)})
            yield {chatbot: chat, question_box: "", switch_btn: gr.Button(visible=False), switch_to: None,
                   feedback_status: ""}
            try:
                answer = assistant.ask(text, locale=tr.locale, history=[Turn(q, a) for q, a in history or []],
                                       country=chosen_country(assistant, where) or None)
            except Exception as exc:  # never show a traceback to the person asking
                if not isinstance(exc, InputError):
                    log.exception("answering failed")
                chat[-1] = {"role": "assistant", "content": _error_text(exc, tr, emergency)}
                yield {chatbot: chat, question_box: text, last: None}  # the text comes back to be fixed
                return
            for partial in _blocks(answer.text):  # the notice (first block) arrives first
                chat[-1] = {"role": "assistant", "content": partial}
                yield {chatbot: chat}
            other = answer.detected_language
            offer = other in LOCALES and other != tr.locale
            yield {
                switch_btn: gr.Button(value=cats.translator(other).gettext(_SWITCH).format(language=language_name(other)),
                                      visible=True) if offer else gr.Button(visible=False),
                switch_to: other if offer else None,
                last: {"question": answer.question, "quote_ids": _quote_ids(answer), "locale": answer.locale,
                       "notice": answer.notice is not None, "rated": False},
                turns: [*(history or []), (answer.question, answer.text)][-5:],
            }

        chat_args = dict(outputs=[chatbot, question_box, switch_btn, switch_to, last, turns, feedback_status],
                         api_visibility="private", show_progress="minimal", concurrency_id="ask",
                         concurrency_limit=settings.concurrency)
        chat_inputs = [question_box, chatbot, turns, language, country]
        for trigger, first in [(question_box.submit, question_box), (send.click, question_box),
                               *((btn.click, btn) for btn in example_btns)]:
            trigger(chat_turn, inputs=[first, *chat_inputs[1:]], **chat_args).then(None, None, None, js=_SHOW_ANSWER_JS)

        def on_clear() -> dict:
            return {chatbot: [], turns: [], last: None, switch_btn: gr.Button(visible=False), switch_to: None,
                    question_box: "", feedback_status: ""}

        clear.click(on_clear, None, [chatbot, turns, last, switch_btn, switch_to, question_box, feedback_status],
                    **private)

        # -- feedback ----------------------------------------------------------------------
        def rate(rating: str, note: str, last_answer: dict | None, locale: str) -> dict:
            tr = tr_of(locale)
            if not last_answer:
                return {feedback_status: tr.gettext(_NOTHING_TO_RATE)}
            if last_answer.get("rated"):
                return {feedback_status: tr.gettext(_ALREADY)}
            try:
                store.add(last_answer["question"], last_answer["quote_ids"], last_answer["locale"], rating, note or "",
                          notice=bool(last_answer.get("notice", True)))
            except Exception:  # a full disk or a locked file: say so, keep the comment to send again
                log.exception("feedback could not be saved")
                return {feedback_status: tr.gettext(_NOT_SAVED)}
            return {feedback_status: tr.gettext(_THANKS), comment: "", last: {**last_answer, "rated": True}}

        for btn, rating in ((up, "up"), (down, "down")):
            btn.click(lambda note, last_answer, locale, _r=rating: rate(_r, note, last_answer, locale),
                      [comment, last, language], [feedback_status, comment, last], api_visibility="private")

        # -- API ---------------------------------------------------------------------------
        def api_respond(message: str, locale: str = default_locale, country: str = "",
                        request: gr.Request = None) -> str:  # type: ignore[assignment] - Gradio fills it in
            """Answer a question; returns the whole Markdown reply (notice, framing, verbatim quotes, sources).

            ``locale`` defaults to the operator's default language; an unknown one is refused.
            ``country`` (ISO code, e.g. "SE") puts that country's helpline first in a safety notice."""
            locale = (locale or default_locale).strip().lower() if isinstance(locale, str) else default_locale
            if locale not in LOCALES:
                raise gr.Error(default_tr.gettext(_UNKNOWN_LOCALE).format(locale=repr(locale), locales=" ".join(LOCALES)),
                               print_exception=False)
            tr = tr_of(locale)
            if over_limit(request):
                return wait_text(tr, country)
            try:
                return assistant.ask(message, locale=tr.locale, country=chosen_country(assistant, country) or None).text
            except Exception as exc:  # never a traceback to the caller
                if not isinstance(exc, InputError):
                    log.exception("answering failed")
                raise gr.Error(_error_text(exc, tr, emergency), print_exception=False) from exc

        # The page and the API share one limit (ASSISTANT_CONCURRENCY): the model call is
        # serialised by the embedder's lock, everything around it (Chroma, BM25, rendering,
        # Gradio's own work) overlaps.
        gr.api(api_respond, api_name=API_NAME, concurrency_id="ask", concurrency_limit=settings.concurrency)
    return demo


def serve(assistant: "Assistant", *, host: str | None = None, port: int | None = None,
          block: bool = True, quiet: bool = False) -> "gr.Blocks":
    """Build the page, make sure the index exists, and serve it on ``host:port``.

    With ``block=False`` the server runs in a background thread; call ``.close()`` on the
    returned Blocks to stop it.
    """
    apply_offline_env()
    assistant.ensure_index()
    demo = build_app(assistant)
    demo.queue()
    demo.launch(
        server_name=host or assistant.settings.host,
        server_port=port or assistant.settings.port,
        prevent_thread_lock=True,
        quiet=True,  # Gradio's own lines suggest share=True, which this chat must never use
        share=False,
        inbrowser=False,
        **launch_options(assistant),
    )
    if not quiet:
        print(f"The chat is served at {demo.local_url} (Ctrl+C stops it).", flush=True)
    if block:
        demo.block_thread()
    return demo
