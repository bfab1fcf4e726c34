"""Privacy: personal data is masked, and logs carry message text only in debug mode."""

from __future__ import annotations

import logging

import pytest

from assistant.privacy import EMAIL, ID_NUMBER, PHONE, log_message, mask_personal_data

# Well-known example numbers from public documentation of each format (not real people).
ID_NUMBERS = {
    "SE personnummer": "811218-9876",
    "SE personnummer, 100+ years": "811218+9876",
    "SE personnummer, 12 digits": "19811218-9876",
    "SE personnummer, bare": "8112189876",
    "DK CPR-nummer": "010203-1234",
    "FI henkilötunnus": "131052-308T",
    "FI henkilötunnus, 2000s": "010105A123N",
    "NO fødselsnummer": "01010112345",
    "NO fødselsnummer, grouped": "010101 12345",
    "PL PESEL": "44051401359",
    "EE isikukood": "37605030299",
    "LT asmens kodas": "33309240064",
    "LV personas kods": "010101-12345",
    "LV personas kods, new": "321234-56789",
    "IS kennitala": "120174-3399",
}

PHONES = [
    "+46 70 123 45 67",
    "070-123 45 67",
    "+48 123 456 789",
    "0049 30 1234567",
    "22 33 44 55",
    "(0)20 7946 0958",
    "+4670123456",
    "+48123456789",
]

KEPT = [
    "Call 116 111 or 112 now.",
    "In Iceland the number is 1717.",
    "Article 19 of the UNCRC, adopted 20 November 1989 (resolution 44/25).",
    "Sweden banned it in 1979; the projects ran 2015-2017 and 2015–2017.",
    "It entered into force on 01.01.2016, or 2016-01-01.",
    "Commission Decision 2007/116/EC",
    "The relevance score was 0.8123456.",
]


@pytest.mark.parametrize("kind", ID_NUMBERS)
def test_identity_numbers_are_masked(kind: str) -> None:
    number = ID_NUMBERS[kind]
    masked = mask_personal_data(f"my number is {number}, please help")
    assert masked == f"my number is {ID_NUMBER}, please help", kind


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone: str) -> None:
    masked = mask_personal_data(f"call me on {phone} tonight")
    assert masked == f"call me on {PHONE} tonight"


@pytest.mark.parametrize("address", ["anna.svensson+test@example.se", "jan_kowalski@poczta.example.pl",
                                     "jüri@näide.ee"])
def test_email_addresses_are_masked(address: str) -> None:
    assert mask_personal_data(f"write to {address}.") == f"write to {EMAIL}."


@pytest.mark.parametrize("text", KEPT)
def test_public_numbers_years_and_dates_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_everything_in_one_message() -> None:
    text = "I am Ola (010101 12345), mail ola@example.no or ring 22 33 44 55. Dad hits me."
    assert mask_personal_data(text) == (
        f"I am Ola ({ID_NUMBER}), mail {EMAIL} or ring {PHONE}. Dad hits me.")


def test_log_without_debug_has_event_and_length_only(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("assistant.test_privacy")
    text = "my dad hits me, mail me at kid@example.com, 811218-9876"
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        log_message(logger, "question", text, debug=False)
    (record,) = caplog.records
    message = record.getMessage()
    assert message == f"question ({len(text)} characters)"
    assert "dad" not in message and "kid@" not in message and "9876" not in message


def test_log_with_debug_has_masked_text(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("assistant.test_privacy")
    text = "my dad hits me\nmail me at kid@example.com or +46 70 123 45 67, id 811218-9876"
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        log_message(logger, "question", text, debug=True)
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith(f"question ({len(text)} characters): ")
    assert "my dad hits me" in message
    assert EMAIL in message and PHONE in message and ID_NUMBER in message
    assert "kid@example.com" not in message and "123 45 67" not in message and "9876" not in message
    assert "\n" not in message  # one line per record, whatever the user typed
