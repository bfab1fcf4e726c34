from assistant.chunking import chunk_document, split_sentences
from assistant.types import Document, Section


def test_sentences_respect_abbreviations_initials_and_lines():
    text = "Dr. Smith came, e.g. in 2017. Art. 19 protects children! Is it so? Yes.\nA heading\nNext line."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["Dr. Smith came, e.g. in 2017.", "Art. 19 protects children!", "Is it so?", "Yes.",
                     "A heading", "Next line."]


def test_ordinal_dates_do_not_end_a_sentence():
    text = ("Die Konvention wurde am 20. November 1989 angenommen. Det skete den 3. marts 2022. "
            "Aizlieguma gads ir 1998. gadā pieņemts. Sweden banned it in 1979. Finland followed in 1983.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Die Konvention wurde am 20. November 1989 angenommen.", "Det skete den 3. marts 2022.",
        "Aizlieguma gads ir 1998. gadā pieņemts.", "Sweden banned it in 1979.", "Finland followed in 1983."]


def test_bullets_are_not_part_of_the_sentence():
    text = "Facts\n\n  • 10 CBSS Member States have a ban in place."
    assert [text[s:e] for s, e in split_sentences(text)] == ["Facts", "10 CBSS Member States have a ban in place."]


def test_chunks_are_exact_slices_of_whole_sentences_with_overlap():
    sentences = [f"Sentence number {i} says something about child protection." for i in range(40)]
    text = " ".join(sentences)
    doc = Document(doc_id="d.md", title="T", language="en", source_url="u", text=text)
    chunks = chunk_document(doc, size=300, overlap=1)
    assert len(chunks) > 5
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text
        assert chunk.text.startswith("Sentence") and chunk.text.endswith(".")
        assert len(chunk.text) <= 300
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # one shared sentence
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert [c.chunk_id for c in chunk_document(doc, size=300, overlap=1)] == [c.chunk_id for c in chunks]


def test_chunks_stay_inside_sections_and_carry_title_and_page():
    text = "Intro\nFirst page text is here.\nSecond page text is here."
    doc = Document(doc_id="p.pdf", title="T", language="de", source_url="u", text=text,
                   sections=(Section(0, 30, "Intro", 1), Section(31, len(text), "", 2)))
    chunks = chunk_document(doc, size=1000)
    assert [(c.page, c.section) for c in chunks] == [(1, "Intro"), (2, "")]
    assert chunks[1].text == "Second page text is here."
    assert chunks[0].language == "de"


def test_sentence_wrapped_across_lines_is_one_sentence():
    # As PDF text comes out: lines broken mid-sentence, a heading and a list of their own.
    text = ("Interviews\nThe child should be interviewed as\nsoon as possible after the disclosure, by a trained\n"
            "interviewer in a child-friendly room where the interview is recorded for the court.\n"
            "Next steps\n- Report to social services.\n- Tell the child what happens next.")
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans[0] == "Interviews"
    assert spans[1].startswith("The child should") and spans[1].endswith("recorded for the court.")
    assert "\n" in spans[1]  # still the exact text of the document
    assert spans[2:] == ["Next steps", "Report to social services.", "Tell the child what happens next."]
    assert not any(s.startswith("soon") for s in spans)


def test_a_preface_the_document_asks_not_to_quote_is_kept_but_not_quotable():
    text = "This note is a summary, not an official text.\n\nBarnahus opened in 1998. It is a house."
    heading = text.index("Barnahus")
    sections = (Section(0, heading), Section(heading, len(text), "History"))
    for quote_preface in (True, False):
        doc = Document("n.md", "T", "en", "", text, sections, quote_preface=quote_preface)
        chunks = chunk_document(doc, size=40, overlap=0)
        assert "".join(c.text for c in chunks).replace(" ", "") == text.replace("\n", "").replace(" ", "")
        assert [c.quotable for c in chunks] == [quote_preface, True], chunks
