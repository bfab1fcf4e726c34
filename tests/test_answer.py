"""The sentence choice on its own (pure parts, synthetic sentences): the language correction."""

from __future__ import annotations

from assistant.answer import choose_quotes
from assistant.config import Settings
from assistant.retrieval import Retrieval, ScoredSentence
from assistant.types import Chunk, Hit

ON_TOPIC = "Die Expertengruppe vereint hohe Beamtinnen und Beamte der Ministerien."
ANSWER = "The Expert Group on Children at Risk meets at least twice a year."


def _retrieval(shift: dict[str, float]) -> Retrieval:
    chunks = {lang: Chunk(chunk_id=lang, doc_id=f"notes/group.{lang}.md", text=text, start=0, end=len(text),
                          title="Group", language=lang, source_url="https://example.org/group")
              for lang, text in (("de", ON_TOPIC), ("en", ANSWER))}
    sentences = [ScoredSentence(c.doc_id, c, 0, len(c.text), c.text, similarity)
                 for c, similarity in ((chunks["de"], 0.90), (chunks["en"], 0.85))]
    hits = [Hit(chunk=c, score=1.0) for c in chunks.values()]
    return Retrieval(query="Wie oft trifft sich die Gruppe?", language="de", hits=hits, relevance=0.9,
                     sentences=sentences, language_shift=shift)


def test_the_models_own_language_preference_is_taken_off_each_sentence() -> None:
    """e5 scores any German sentence higher for a German question: once the census's shift for
    this question (German chunks 0.06 above the mean, English 0.02 below) is taken off, the
    English sentence that answers outranks the German one that is only on the topic."""
    settings = Settings(max_quotes=1)
    assert [q.text for q in choose_quotes(_retrieval({}), settings, user_language="de")] == [ON_TOPIC]
    assert [q.text for q in choose_quotes(_retrieval({"de": 0.06, "en": -0.02}), settings,
                                          user_language="de")] == [ANSWER]
