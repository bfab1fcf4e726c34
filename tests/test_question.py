"""What a question asks for, and whether a sentence holds it (pure functions)."""

from __future__ import annotations

import pytest

from assistant.question import ITEM, NAME, NUMBER, PLACE, YEAR, asks_for, carries


@pytest.mark.parametrize(("question", "kind"), [
    ("When was the UNCRC adopted?", YEAR),
    ("Hvornår blev det forbudt at slå børn?", YEAR),
    ("W którym roku przyjęto konwencję?", YEAR),
    ("Mis aastal võeti konventsioon vastu?", YEAR),
    ("Коли ухвалили конвенцію?", YEAR),
    ("How many members does the network have?", NUMBER),
    ("Cik bieži tiekas ekspertu grupa?", NUMBER),
    ("Hur många länder har förbud?", NUMBER),
    ("Which PROMISE standard is about therapy?", ITEM),
    ("Kurš PROMISE standarts attiecas uz medicīnisko izmeklēšanu?", ITEM),
    ("Welcher Artikel schützt Kinder vor Gewalt?", ITEM),
    ("Where was the first Barnahus set up?", PLACE),
    ("Gdzie powstał pierwszy Barnahus?", PLACE),
    ("Who started the first Barnahus?", NAME),
    ("Wie heißt das Kindertelefon in Deutschland?", NAME),
    ("What is a Barnahus?", None),
])
def test_question_words_say_what_is_asked(question: str, kind: str | None) -> None:
    assert asks_for(question) == kind


def test_sentence_carries_what_is_asked() -> None:
    assert carries(YEAR, "Sweden banned corporal punishment in 1979.")
    assert not carries(YEAR, "Sweden banned corporal punishment first.")
    assert carries(NUMBER, "The network had 43 members in 2024.")
    assert not carries(NUMBER, "The network was founded in 2019.")  # a year is not the number asked for
    assert carries(ITEM, 'PROMISE Barnahus Quality Standard 8 is called "Therapeutic services".')
    assert carries(ITEM, "Konvencijas 3. pants nosaka bērna intereses.")
    assert not carries(ITEM, "The standards were published in 2017.")
    assert carries(PLACE, "The first Barnahus was set up in Iceland in 1998.")
    assert not carries(None, "Anything at all.")
