"""The real Gradio app on a loopback port: the documented "respond" API, the page config, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from assistant.config import LOCALES
from assistant.i18n import language_name
from assistant.text import one_line
from assistant.web.page import API_NAME, EXAMPLES, GRADIO_LABELS, LABELS, _blocks, build_app, render_help, render_help_bar

pytestmark = pytest.mark.slow

EMPTY = "The message is empty. Please type a question."  # the service's msgid for an empty message


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)




def test_respond_returns_verbatim_quotes(client, shipped_assistant):
    question = shipped_assistant.catalogues.translator("en").gettext(EXAMPLES[0])
    reply = client.predict(question, "en", api_name=f"/{API_NAME}")
    answer = shipped_assistant.ask(question, locale="en")
    assert not answer.abstained and answer.quotes, "the example question should be answered by the shipped corpus"
    assert isinstance(reply, str) and reply.strip()
    quoted = [q for q in answer.quotes if one_line(q.text) in one_line(reply)]
    assert quoted, "no quote of the answer came back through the API"
    for quote in quoted:
        assert quote.text in shipped_assistant.document_text(quote.doc_id)
        assert quote.citation.source_url in reply


@pytest.mark.parametrize("locale", ["pl", "uk"])
def test_respond_frames_in_the_question_language(client, shipped_assistant, locale):
    """The framing around the quotes (lead-in, sources heading) is the question's language's, not English."""
    tr = shipped_assistant.catalogues.translator(locale)
    question = tr.gettext(EXAMPLES[0])
    reply = client.predict(question, locale, api_name=f"/{API_NAME}")
    lead_in = "This is what the documents say, quoted word for word:"
    assert tr.gettext(lead_in) != lead_in and tr.gettext(lead_in) in reply and lead_in not in reply
    answer = shipped_assistant.ask(question, locale=locale)
    assert answer.locale == locale and reply == answer.text


@pytest.mark.parametrize("locale", ["en", "pl", "lt"])
def test_empty_message_gives_a_readable_error(client, shipped_assistant, locale):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict("   ", locale, api_name=f"/{API_NAME}")
    message = str(info.value)
    assert shipped_assistant.catalogues.translator(locale).gettext(EMPTY) in message
    assert "Traceback" not in message and "InputError" not in message


def test_too_long_message_gives_a_readable_error(client, shipped_assistant):
    from gradio_client.exceptions import AppError

    limit = shipped_assistant.settings.max_message_chars
    with pytest.raises(AppError) as info:
        client.predict("child " * limit, "en", api_name=f"/{API_NAME}")
    assert str(limit) in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.parametrize("country, first", [("LT", "Vaikų linija"), ("", "Telefon Zaufania dla Dzieci i Młodzieży")])
def test_respond_puts_the_chosen_country_first(client, country, first):
    # Polish message: without a country the notice starts with Poland's helpline.
    reply = client.predict("tata mnie bije i boję się wracać do domu", "en", country, api_name=f"/{API_NAME}")
    assert reply.startswith("**") and "[112](tel:112)" in reply.split("\n")[0]
    head = reply.split("<details>")[0]
    assert first in head and "[**116 111**](tel:116111)" in head


def test_only_the_respond_endpoint_is_public(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == [f"/{API_NAME}"]
    params = [p["parameter_name"] for p in api["named_endpoints"][f"/{API_NAME}"]["parameters"]]
    assert params == ["message", "locale", "country"]


def test_static_labels_come_from_the_catalogues(app_url, shipped_assistant):
    with urllib.request.urlopen(f"{app_url}/config", timeout=30) as response:
        config = json.load(response)
    translations = config["i18n_translations"]
    assert set(translations) == set(LOCALES)
    for locale in LOCALES:
        tr = shipped_assistant.catalogues.translator(locale)
        assert translations[locale] == {key: tr.gettext(msgid) for key, msgid in {**LABELS, **GRADIO_LABELS}.items()}
    assert config["analytics_enabled"] is False


def test_page_is_served(app_url):
    with urllib.request.urlopen(app_url + "/", timeout=30) as response:
        assert response.status == 200
        assert "gradio-app" in response.read().decode("utf-8", "replace")


def test_help_panel_lists_every_helpline_from_the_data(shipped_assistant):
    helplines = shipped_assistant.safeguarding.helplines()
    assert helplines
    for locale in ("en", "pl", "uk"):
        text = render_help(shipped_assistant, shipped_assistant.catalogues.translator(locale))
        for helpline in helplines:
            assert helpline.number in text and helpline.display_name(locale) in text


def test_help_panel_puts_the_interface_country_first(shipped_assistant):
    safeguarding = shipped_assistant.safeguarding
    for locale, country in (("pl", "PL"), ("lt", "LT"), ("uk", "UA")):
        text = render_help(shipped_assistant, shipped_assistant.catalogues.translator(locale))
        own = safeguarding.helpline(country)
        others = [h for h in safeguarding.helplines() if h.country != country]
        assert text.index(own.display_name(locale)) < min(text.index(h.display_name(locale)) for h in others)
        assert safeguarding.emergency in text


def test_help_bar_names_112_and_the_country_helpline(shipped_assistant):
    tr = shipped_assistant.catalogues.translator("sv")
    bar = render_help_bar(shipped_assistant, tr)
    assert "(tel:112)" in bar and "(tel:116111)" in bar and "BRIS" in bar, bar
    assert "MLL" in render_help_bar(shipped_assistant, tr, "FI")


def test_stream_blocks():
    text = "Notice.\n\nFraming:\n\n> \"Quote.\"\n> — source"
    parts = list(_blocks(text))
    assert parts[0] == "Notice." and parts[-1] == text
    assert all(text.startswith(p) for p in parts)


def test_language_choices_are_named_in_their_own_language():
    assert language_name("pl") == "polski" and language_name("uk") == "українська"


@pytest.mark.parametrize("locale, header, query", [("pl", "pl-PL,pl;q=0.9", ""), ("lt", "en-US", "?lang=lt"),
                                                   ("en", "", "")])
def test_page_has_its_own_identity_in_the_page_language(app_url, shipped_assistant, locale, header, query):
    import re

    import httpx

    tr = shipped_assistant.catalogues.translator(locale)
    page = httpx.get(f"{app_url}/{query}", headers={"Accept-Language": header} if header else {}, trust_env=False).text
    head = page.split("</head>")[0]
    assert f'<html lang="{locale}">' in page
    assert re.findall(r"<title>([^<]*)</title>", head) == [tr.gettext(LABELS["title"])]
    assert re.findall(r'property="og:title" content="([^"]*)"', head) == [tr.gettext(LABELS["title"])]
    assert len(re.findall(r'property="og:description"', head)) == 1 and 'name="description"' in head
    assert "Gradio" not in " ".join(re.findall(r"<meta[^>]*>", head)) and "og:image" not in head
    assert "gradio.app" not in head and "twitter:" not in head
    icon = httpx.get(f"{app_url}/favicon.ico", trust_env=False)
    assert icon.status_code == 200 and icon.text.startswith("<svg")


def test_the_log_gives_the_address_and_never_suggests_a_public_link(shipped_assistant, capsys):
    from conftest import free_port

    from assistant.web import serve

    demo = serve(shipped_assistant, host="127.0.0.1", port=free_port(), block=False, quiet=False)
    try:
        out = capsys.readouterr()
        assert f"The chat is served at {demo.local_url}" in out.out
        assert "share=True" not in out.out + out.err and "public link" not in out.out + out.err
    finally:
        demo.close()


def test_gradio_is_imported_without_its_stub_upkeep():
    """Start-up skips Gradio's upkeep of its .pyi stubs (half of its import time); Gradio works."""
    code = ("from assistant.web.page import _import_gradio; gr = _import_gradio(); "
            "import gradio.component_meta as meta; print(meta.create_or_modify_pyi.__name__); "
            "print(type(gr.Textbox(label='x')).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["<lambda>", "Textbox"]


def test_a_session_builds_its_component_configs_only_when_read(shipped_assistant):
    """Each API call is a new Gradio session: it starts with no component config built, and
    once read it holds what Gradio's own SessionState would (same attributes, same configs)."""
    from gradio.state_holder import SessionState

    demo = build_app(shipped_assistant)
    lazy = SessionState(demo)
    assert SessionState.__init__._lazy_configs and dict.__len__(lazy.config_values) == 0
    own = SessionState.__new__(SessionState)
    SessionState.__init__._original(own, demo)
    assert vars(lazy).keys() == vars(own).keys()
    some = next(iter(own.config_values))
    assert lazy.config_values[some] == own.config_values[some] and dict.__len__(lazy.config_values) == 1
    assert dict(lazy.config_values.items()) == own.config_values
    assert list(lazy.components) == list(own.components)
