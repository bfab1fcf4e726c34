"""BM25 over the same chunks as the vector store, persisted next to the Chroma data.

Tokens are lower-cased words; each word is indexed both as written and, where Snowball has
the language (PyStemmer), as its stem in the chunk's language. Names and numbers (Barnahus,
116 111, 2007/116/EC) therefore match across languages, and inflected words match within one.
Function words of the 12 languages are dropped so they cannot outweigh the content words.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .types import Chunk

_SNOWBALL = {"en": "english", "da": "danish", "de": "german", "et": "estonian", "fi": "finnish", "lt": "lithuanian",
             "nb": "norwegian", "pl": "polish", "sv": "swedish"}  # no Snowball stemmer for is, lv, uk
_WORD = re.compile(r"\w+", re.UNICODE)
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

    def __call__(self, text: str, language: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
        stemmer = self._stemmer(language)
        if stemmer is None:
            return words
        stems = stemmer.stemWords(words)
        return words + [f"~{s}" for s, w in zip(stems, words) if s != w]


class LexicalIndex:
    """A bm25s index over chunks; ``search`` returns (chunk_id, score) best first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tokenize = Tokenizer()
        self._bm25 = None
        self._ids: list[str] = []

    @property
    def ids(self) -> list[str]:
        return self._ids

    def build(self, chunks: Sequence[Chunk]) -> None:
        """(Re)build from chunks and persist; an empty corpus leaves an empty index."""
        import bm25s

        quiet_bm25s()

        chunks = sorted(chunks, key=lambda c: c.chunk_id)
        self._ids = [c.chunk_id for c in chunks]
        self._bm25 = None
        if chunks:
            bm25 = bm25s.BM25()
            bm25.index([self.tokenize(c.text, c.language) or ["\x00"] for c in chunks], show_progress=False)
            self._bm25 = bm25
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self._ids))
        shutil.rmtree(self.directory, ignore_errors=True)
        tmp.rename(self.directory)  # swap in whole, so a crash never leaves half an index

    def load(self) -> bool:
        """Load the persisted index; False when it is missing or unreadable."""
        import bm25s

        ids_file = self.directory / "ids.json"
        try:
            ids = json.loads(ids_file.read_text())
            bm25 = bm25s.BM25.load(str(self.directory), show_progress=False) if ids else None
        except (OSError, ValueError):
            return False
        self._ids, self._bm25 = ids, bm25
        return True

    def ensure(self, held_ids: set[str], chunks: Callable[[], Sequence[Chunk]], *, force: bool = False) -> bool:
        """Load the persisted index, or rebuild it from ``chunks()`` when ``force``d, missing, or
        out of step with the store's ``held_ids``; True when it was rebuilt."""
        if not force and self.load() and set(self._ids) == held_ids:
            return False
        self.build(chunks())
        return True

    def search(self, query: str, language: str, k: int) -> list[tuple[str, float]]:
        if self._bm25 is None or not self._ids:
            return []
        tokens = [t for t in self.tokenize(query, language) if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens))
        top = np.argsort(-scores)[:k]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]
