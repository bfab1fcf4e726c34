"""The assistant end to end on the shipped corpus: real index, real model, real catalogues."""

from __future__ import annotations

import pytest

from assistant.errors import InputError
from assistant.types import Turn
from conftest import assert_faithful

PAGE = "cbss-child-protection-page.txt"


@pytest.mark.parametrize("question,locale", [
    ("Wie viele Fachkräfte hat der CBSS in den letzten 20 Jahren geschult?", "de"),
    ("Ilu specjalistów przeszkoliła CBSS w ciągu ostatnich 20 lat?", "pl"),
])
def test_cross_lingual_question_finds_the_english_site_page(shipped_assistant, question, locale):
    """Only the site page (English) says how many professionals were trained."""
    hits = shipped_assistant.retrieve(question, locale=locale, k=5)
    assert any(h.chunk.doc_id == PAGE and "1000 professionals" in h.chunk.text for h in hits), \
        [h.chunk.doc_id for h in hits]


@pytest.mark.parametrize("question,locale,fact", [
    ("When did Sweden ban corporal punishment of children?", "en", "1979"),
    ("What is the child helpline number in the EU?", "en", "116 111"),
    ("Wann wurde das erste Barnahus gegründet?", "de", "1998"),
    ("Kiedy Polska zakazała kar cielesnych wobec dzieci?", "pl", "2010"),
])
def test_answers_quote_verbatim_with_citations(shipped_assistant, question, locale, fact):
    answer = shipped_assistant.ask(question, locale=locale)
    assert not answer.abstained and 1 <= len(answer.quotes) <= 4
    assert_faithful(shipped_assistant, answer)
    assert any(fact in q.text for q in answer.quotes), [q.text for q in answer.quotes]
    for quote in answer.quotes:
        assert quote.citation.title and quote.citation.source_url.startswith("https://")
        assert f"]({quote.citation.source_url})" in answer.text
    assert answer.locale == locale


@pytest.mark.parametrize("question,locale,said", [
    ("Kiedy weszła w życie Konwencja o prawach dziecka?", "pl", "weszła w życie 2 września 1990"),
    ("Kada įsigaliojo JT vaiko teisių konvencija?", "lt", "įsigaliojo 1990 metų rugsėjo 2"),
])
def test_the_sentence_with_the_questions_own_words_is_quoted(shipped_assistant, question, locale, said):
    """The same note also says when the Convention was adopted (another date, another year): the
    sentence that holds the question's words (here inflected) is the one quoted."""
    answer = shipped_assistant.ask(question, locale=locale)
    assert said in answer.quotes[0].text, [q.text for q in answer.quotes]


@pytest.mark.parametrize("question", [
    "What will the weather be like in Stockholm tomorrow?",
    "Who won the football world cup in 2018?",
    "How many milligrams of paracetamol can I give a 4-year-old?",
])
def test_out_of_scope_questions_are_not_answered_with_unrelated_quotes(shipped_assistant, question):
    answer = shipped_assistant.ask(question, locale="en")
    assert answer.abstained and not answer.quotes
    assert "could not find" in answer.text


def test_abstention_is_in_the_users_language(shipped_assistant):
    answer = shipped_assistant.ask("Jaka będzie jutro pogoda w Warszawie i czy będzie padać?", locale="pl")
    assert answer.abstained and answer.locale == "pl"
    assert "could not find" not in answer.text


def test_danger_message_gets_the_notice_first_with_numbers_from_data(shipped_assistant):
    answer = shipped_assistant.ask("Mój tata mnie bije i boję się wracać do domu", locale="pl")
    assert answer.notice is not None
    assert answer.text.index("112") < (answer.text.index(">") if ">" in answer.text else len(answer.text))
    assert "116 111" in answer.text


def test_professional_question_gets_no_alarm(shipped_assistant):
    answer = shipped_assistant.ask("How should a forensic interview of a child who disclosed abuse be organised?")
    assert answer.notice is None and not answer.abstained


def test_follow_up_uses_the_previous_turn(shipped_assistant):
    first = "When did Finland ban corporal punishment?"
    answer = shipped_assistant.ask("And Norway?", history=[Turn(first)])
    assert_faithful(shipped_assistant, answer)
    assert any("1987" in q.text for q in answer.quotes), [q.text for q in answer.quotes]


@pytest.mark.parametrize("message,expected", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 5000, "too long"), ("abc\x00\x01\x02def", "binary"),
])
def test_unusable_messages_raise_a_clear_input_error(shipped_assistant, message, expected):
    with pytest.raises(InputError, match=expected):
        shipped_assistant.ask(message)


def test_a_danish_question_is_answered_from_danish_and_english_notes(shipped_assistant):
    """Norwegian and Swedish notes sit close to Danish ones for the model, but each is about its own
    country: a third language ranks below the asker's and English (Calibration.third_language_penalty)."""
    hits = shipped_assistant.retrieve("Hvor skal jeg henvende mig, hvis jeg er bekymret for et barn i Danmark?",
                                      locale="da", k=5)
    assert [h.chunk.language for h in hits[:3]] and all(h.chunk.language in ("da", "en") for h in hits[:3]), \
        [h.chunk.doc_id for h in hits]
