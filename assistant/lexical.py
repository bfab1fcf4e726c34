"""BM25 over the same chunks as the vector store, persisted next to the Chroma data.

Tokens are lower-cased words; each word is indexed both as written and, where Snowball has
the language (PyStemmer), as its stem in the chunk's language. Names and numbers (Barnahus,
116 111, 2007/116/EC) therefore match across languages, and inflected words match within one.
Function words of the 12 languages are dropped so they cannot outweigh the content words.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .text import lower_words
from .types import Chunk

log = logging.getLogger(__name__)

_SNOWBALL = {"en": "english", "da": "danish", "de": "german", "et": "estonian", "fi": "finnish", "lt": "lithuanian",
             "nb": "norwegian", "pl": "polish", "sv": "swedish"}  # no Snowball stemmer for is, lv, uk
STOPWORDS = frozenset("""
a an and are as at be by can do does for from has have how i in is it its me my of on or that the their this to was
what when where which who why will with you your about into than there they them been
og i er at en et det de den som på til af med for har om kan hvad hvordan hvem hvornår jeg mig min der ikke
und der die das ist in zu den mit von für auf wie was wer wann ich mich mein ein eine einer dem des sich nicht es sind
ja ei on ja kui mis kes kus kuidas millal ma mina mind see selle oma et ning või kas
ja on ei se että mitä miten kuka milloin missä minä minun mikä tai kun ole
og að er í á um hvað hvernig hver hvenær ég mig mín það ekki sem til með fyrir
un ir ar kā kas kur kad es mani mans par uz no vai to tas ko
ir kaip kas kur kada aš mane mano yra ar į su už apie tai kad iš
og i er det som på til av med for har om kan hva hvordan hvem når jeg meg min ikke en et
i w na z do jak co kto kiedy gdzie jest są się nie to czy o za ja mnie mój od dla
och i är att en ett det som på till av med för har om kan vad hur vem när jag mig min inte
і в на з до як що хто коли де є це чи не я мене мій та або про від для
""".split())


def quiet_bm25s() -> None:
    """bm25s logs every index build at DEBUG on stderr, through the CLI's progress output."""
    logging.getLogger("bm25s").setLevel(logging.WARNING)


class Tokenizer:
    """Language-aware tokens: raw lower-case words plus Snowball stems where available."""

    def __init__(self) -> None:
        self._stemmers: dict[str, object] = {}

    def _stemmer(self, language: str):  # noqa: ANN202 - PyStemmer has no stubs
        if language not in _SNOWBALL:
            return None
        if language not in self._stemmers:
            import Stemmer
            self._stemmers[language] = Stemmer.Stemmer(_SNOWBALL[language])
        return self._stemmers[language]

    def word_forms(self, text: str, language: str) -> list[tuple[str, str]]:
        """(word, stem) of each content word; the stem is the word where Snowball lacks the language."""
        words = [w for w in lower_words(text) if w not in STOPWORDS]
        stemmer = self._stemmer(language)
        return list(zip(words, stemmer.stemWords(words) if stemmer is not None else words))

    def __call__(self, text: str, language: str) -> list[str]:
        forms = self.word_forms(text, language)
        return [w for w, _ in forms] + [f"~{s}" for w, s in forms if s != w]


class LexicalIndex:
    """A bm25s index over chunks; ``search`` returns (chunk_id, score) best first.

    It is labelled with the census generation of the index it was built from, so a process
    can tell when another one has ingested (the census changed) and follow."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tokenize = Tokenizer()
        # (ids, bm25, chunk id → language), swapped whole: searches run in threads
        self._state: tuple[list[str], object | None, dict[str, str]] = ([], None, {})
        self.generation = ""

    def build(self, chunks: Iterable[Chunk], generation: str) -> None:
        """(Re)build from chunks (read once, in any order) and persist; an empty corpus leaves an empty index."""
        import bm25s

        quiet_bm25s()
        tokens, languages = {}, {}
        for c in chunks:
            tokens[c.chunk_id] = self.tokenize(c.text, c.language) or ["\x00"]
            languages[c.chunk_id] = c.language
        ids = sorted(tokens)
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index([tokens[i] for i in ids], show_progress=False)
        tmp = self.directory.with_name(f"{self.directory.name}.tmp-{uuid.uuid4().hex[:8]}")
        tmp.mkdir(parents=True)
        if bm25 is not None:
            bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps({"ids": ids, "languages": [languages[i] for i in ids]}))
        (tmp / "generation").write_text(generation)
        old = self.directory.with_name(f"{self.directory.name}.old-{uuid.uuid4().hex[:8]}")
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)  # swapped in whole, so a crash never leaves half an index
        shutil.rmtree(old, ignore_errors=True)
        self._state, self.generation = (ids, bm25, languages), generation

    def load(self) -> bool:
        """Load the persisted index; False when it is missing or unreadable."""
        import bm25s

        try:
            listed = json.loads((self.directory / "ids.json").read_text())
            ids, languages = listed["ids"], dict(zip(listed["ids"], listed["languages"], strict=True))
            generation = (self.directory / "generation").read_text().strip()
            bm25 = bm25s.BM25.load(str(self.directory), show_progress=False) if ids else None
        except Exception:  # noqa: BLE001 - missing, truncated or foreign files all mean "rebuild"
            return False
        self._state, self.generation = (ids, bm25, languages), generation
        return True

    def follow(self, generation: str, chunks: Callable[[], Iterable[Chunk]]) -> bool:
        """Be the index of census ``generation``: as it is, from disk, or rebuilt from ``chunks()``;
        True when it was rebuilt."""
        if self.generation == generation:
            return False
        if self.load():
            if self.generation == generation:
                return False
            log.info("the store changed since the BM25 index in %s was built; rebuilding it", self.directory)
        elif self.directory.exists():
            log.warning("the BM25 index in %s is missing or unreadable; rebuilding it", self.directory)
        self.build(chunks(), generation)
        return True

    def language_of(self, chunk_id: str) -> str:
        """The language of a chunk of the index ("" when it is not in it)."""
        return self._state[2].get(chunk_id, "")

    def search(self, query: str, language: str, k: int) -> list[tuple[str, float]]:
        ids, bm25, _ = self._state
        if bm25 is None or not ids:
            return []
        tokens = [t for t in self.tokenize(query, language) if t in bm25.vocab_dict]  # type: ignore[attr-defined]
        if not tokens:
            return []
        scores = np.asarray(bm25.get_scores(tokens))  # type: ignore[attr-defined]
        top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
