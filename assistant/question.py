"""What a question asks for: a year, a number, the number of an article or standard, a name
or a place, recognised from its question words in the 12 languages.

The answer prefers the sentence that holds that kind of thing ("When was ...?" → the sentence
with the year beats its neighbour with the statistics). The word lists are the languages'
ordinary question words, not phrases of any evaluation set.
"""

from __future__ import annotations

import re

YEAR, NUMBER, ITEM, NAME, PLACE = "year", "number", "item", "name", "place"

# Matched on the lower-cased question with word boundaries; the first kind that matches wins,
# so "in which year" (year) is tried before "which" and "how many" before "how".
_ASKS: list[tuple[str, tuple[str, ...]]] = [
    (YEAR, (
        "when", "what year", "which year", "since when", "what date",  # en
        "hvornår", "hvilket år", "siden hvornår",  # da
        "wann", "seit wann", "welchem jahr", "welches jahr", "welchen jahr",  # de
        "millal", "mis aastal", "mis aastast", "mis ajast", "mis kuupäeval",  # et
        "milloin", "minä vuonna", "mistä lähtien", "monennessa vuonna", "minkä vuoden",  # fi
        "hvenær", "hvaða ár", "hvaða ári", "síðan hvenær",  # is
        "kad", "kurā gadā", "kopš kura", "kopš kad",  # lv
        "kada", "kuriais metais", "nuo kada", "kuriais",  # lt
        "når", "hvilket år", "siden når",  # nb
        "kiedy", "w którym roku", "od kiedy", "od którego roku", "którego roku",  # pl
        "när", "vilket år", "sedan när", "vilket datum",  # sv
        "коли", "якому році", "якого року", "з якого", "відколи",  # uk
    )),
    (NUMBER, (
        "how many", "how much", "how often", "what percentage", "what share",
        "hvor mange", "hvor meget", "hvor ofte",
        "wie viele", "wie viel", "wie oft", "wie hoch",
        "mitu", "kui palju", "kui mitu", "kui tihti", "mitmes",
        "kuinka monta", "montako", "monessako", "kuinka paljon", "paljonko", "kuinka usein", "moniko",
        "hversu marg", "hve marg", "hversu oft", "hve oft",
        "cik", "cik daudz", "cik bieži",
        "kiek", "kaip dažnai",
        "hvor mange", "hvor mye", "hvor ofte",
        "ile", "jak często", "jak wiele",
        "hur många", "hur mycket", "hur ofta",
        "скільки", "як часто",
    )),
    (PLACE, (
        "where", "in which country", "which city",
        "hvor blev", "hvor ligger", "hvor er", "i hvilket land", "hvilken by",
        "wo ", "wo?", "in welchem land", "welcher stadt", "in welcher stadt",
        "kus", "mis riigis", "millises riigis", "mis linnas",
        "missä", "mihin maahan", "missä maassa", "missä kaupungissa",
        "hvar", "í hvaða landi", "í hvaða borg",
        "kur", "kurā valstī", "kurā pilsētā",
        "kur", "kurioje šalyje", "kuriame mieste",
        "hvor ble", "hvor ligger", "i hvilket land", "hvilken by",
        "gdzie", "w którym kraju", "w jakim kraju", "w którym mieście",
        "var ligger", "var finns", "var grundades", "var inrättades", "i vilket land", "vilken stad",
        "де ", "де?", "в якій країні", "у якій країні", "в якому місті", "у якому місті",
    )),
    (NAME, (
        "who", "what is the name", "what is it called", "what's it called", "called what",
        "hvem", "hvad hedder", "hvad kaldes",
        "wer", "wie heißt", "wie heisst", "wie nennt",
        "kes", "mis on nimi", "mis nime", "kuidas nimetatakse",
        "kuka", "ketkä", "mikä on nimi", "mikä on sen nimi", "mitä nimeä", "minkä niminen",
        "hver", "hverjir", "hvað heitir", "hvað nefnist",
        "kurš ", "kas ir nosaukums", "kā sauc", "kā sauca",
        "kas yra", "kaip vadinasi", "kaip vadinama", "kuo vardu",
        "hvem", "hva heter", "hva kalles",
        "kto", "jak się nazywa", "jak nazywa się", "jak brzmi nazwa",
        "vem", "vad heter", "vad kallas",
        "хто", "як називається", "як звуть", "яка назва",
    )),
]
_WHICH = (r"which|what|welche[rmns]?|hvilke[nt]?|hvilket|vilke[nt]|mikä|missä|minkä|milline|millises|mis|hvaða"
          r"|kurš|kurā|kuri|kuris|kuriame|kuriuo|który|którym|która|jaki|jakim|який|якій|якому|яка")
_ITEM_WORDS = r"(?:article|artikel|artikkel|artikl|artykuł|straipsn|pant|grein|стат|standard|standart|staðal|стандарт)"
# "Which (PROMISE) standard ...", "kurā Konvencijas pantā": a which-word, up to two words, an item word.
_ASKS_ITEM = re.compile(rf"(?<!\w)(?:{_WHICH})\W+(?:\w+\W+){{0,2}}?{_ITEM_WORDS}\w*")
_PATTERNS = [(kind, re.compile("|".join(r"(?<!\w)" + re.escape(w.strip()) + (r"(?!\w)" if w[-1].isalnum() else "")
                                          for w in words)))
             for kind, words in _ASKS]

_YEAR_IN = re.compile(r"(?<!\d)(?:1[89]\d\d|20\d\d)(?!\d)")
_DIGIT_IN = re.compile(r"\d")
# The number of an article or standard, before or after its word ("Article 3", "3. pants",
# "Standard 7", "7 straipsnis"): a digit within a few characters of the word's stem.
_ITEM_IN = re.compile(rf"(?i){_ITEM_WORDS}\w*\s*\d|\d+\.?\s*{_ITEM_WORDS}")
# A name or place is a capitalised word that does not open the sentence.
_CAPITALISED_IN = re.compile(r"(?<=[\s(\"„«“])[A-ZÀ-ÞĀ-ŽА-ЯІЇЄҐ][\w-]+")


def asks_for(question: str) -> str | None:
    """The kind of thing ``question`` asks for, or None when it asks for none in particular."""
    text = " " + re.sub(r"\s+", " ", question.lower()) + " "
    if _ASKS_ITEM.search(text):
        return ITEM
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return None


def carries(kind: str | None, sentence: str) -> bool:
    """True when ``sentence`` holds the kind of thing asked for (False when nothing is asked)."""
    if kind == YEAR:
        return bool(_YEAR_IN.search(sentence))
    if kind == NUMBER:
        return bool(_DIGIT_IN.search(_YEAR_IN.sub(" ", sentence)))
    if kind == ITEM:
        return bool(_ITEM_IN.search(sentence))
    if kind in (NAME, PLACE):
        return bool(_CAPITALISED_IN.search(sentence))
    return False
