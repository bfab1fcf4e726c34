"""Hybrid retrieval on the shipped corpus: names and numbers, languages, diversity."""

from __future__ import annotations

import pytest

from assistant.retrieval import names_and_numbers

# (question, text that the right chunk contains): identifiers a dense model can miss.
NAMES_AND_NUMBERS = [
    ("NOVA Rapport 18/2007", "NOVA Rapport 18/2007"), ("2007/116/EC", "2007/116/EC"), ("WGCC", "WGCC"),
    ("Lasteabi", "Lasteabi"), ("0 800 500 225", "0 800 500 225"), ("Bragi Guðbrandsson", "Guðbrandsson"),
    ("AudTrain II", "AudTrain II"), ("ROBERT project", "ROBERT"), ("Hjálparsíminn", "Hjálparsíminn"),
    ("1717.is", "1717.is"), ("Article 39", "Article 39"), ("44/25", "44/25"), ("resolution 44/25", "44/25"),
    ("Vaikų linija", "Vaikų linija"), ("BRIS", "BRIS"), ("Alarmtelefonen", "Alarmtelefonen"),
    ("Child Circle", "Child Circle"), ("EGCC", "EGCC"), ("PROMISE 3", "PROMISE 3"),
    ("Nummer gegen Kummer", "Nummer gegen Kummer"), ("La Strada", "La Strada"), ("Oslo Conclusions", "Oslo Conclusions"),
    ("3 March 2022", "3 March 2022"), ("17 May 2022", "17 May 2022"), ("28 June 2018", "28 June 2018"),
]


def found(assistant, mode: str) -> list[str]:
    retriever = assistant.retriever
    hits = []
    for question, needle in NAMES_AND_NUMBERS:
        ranked = retriever.search(question, language="en", census=assistant.index_census(), k=3, mode=mode).hits
        if any(needle in h.chunk.text for h in ranked):
            hits.append(question)
    return hits


def test_hybrid_finds_every_name_and_number_and_beats_dense(shipped_assistant):
    shipped_assistant.ensure_index()
    hybrid, dense = found(shipped_assistant, "hybrid"), found(shipped_assistant, "dense")
    assert len(hybrid) == len(NAMES_AND_NUMBERS), set(q for q, _ in NAMES_AND_NUMBERS) - set(hybrid)
    assert len(hybrid) > len(dense)


def test_names_and_numbers_keep_identifiers_only():
    assert names_and_numbers("Kiedy Polska wprowadziła zakaz w 2010 roku zgodnie z UNCRC?") == "Polska 2010 UNCRC"
    assert names_and_numbers("co to jest 116 111") == "116 111"


def test_top_passages_are_not_near_duplicates(shipped_assistant):
    hits = shipped_assistant.retrieve("What is Barnahus?", k=8)
    texts = [set(h.chunk.text.lower().split()) for h in hits]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert len(a & b) / len(a | b) <= 0.8


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_answers_with_verbatim_quotes(shipped_assistant, mode):
    """The whole ask in each ASSISTANT_RETRIEVAL mode, on the session's index of the shipped corpus."""
    from conftest import assert_faithful

    from assistant.service import build_assistant

    assistant = build_assistant(shipped_assistant.settings.replace(retrieval=mode))
    question = "When did Sweden ban corporal punishment?"
    retrieval = assistant.retriever.search(question, language="en", census=assistant.index_census())
    assert retrieval.hits and any("1979" in s.text for s in retrieval.sentences[:5])
    answer = assistant.ask(question)
    assert not answer.abstained and any("1979" in q.text for q in answer.quotes), answer.text
    assert_faithful(assistant, answer)
