"""The shipped corpus: the site's page as given, and guidance notes that carry every checked fact.

The notes are quoted sentence by sentence to users, so their format is checked strictly here:
front matter, a disclaimer line, plain prose without inline Markdown, and only the helpline
numbers of the facts table (a wrong number in a safety answer is the worst possible bug).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
NOTES = CORPUS / "notes"
SEED_NAME = "cbss-child-protection-page.txt"
LOCALES = ("en", "da", "de", "et", "fi", "is", "lv", "lt", "nb", "pl", "sv", "uk")
FRONT_KEYS = {"title", "language", "source_url", "kind"}

# Words that make the first paragraph a "summary, not an official text" line, per language.
DISCLAIMERS = {
    "en": ("summary written for this assistant", "not an official text"),
    "sv": ("sammanfattning", "inte en officiell text"),
    "de": ("Zusammenfassung", "kein offizieller Text"),
    "pl": ("streszczeniem", "nie tekstem oficjalnym"),
    "fi": ("tiivistelmä", "eikä virallinen teksti"),
    "da": ("resumé", "ikke en officiel tekst"),
    "nb": ("sammendrag", "ikke en offisiell tekst"),
    "et": ("kokkuvõte", "mitte ametlik tekst"),
    "lt": ("santrauka", "ne oficialus tekstas"),
    "lv": ("kopsavilkums", "nevis oficiāls teksts"),
    "uk": ("викладом", "не є офіційним текстом"),
    "is": ("samantekt", "ekki opinber texti"),
}

EN = "notes/*.en.md"
# One exact string per fact of shared/corpus-facts.md, and the notes that must hold it.
FACTS: list[tuple[str, str]] = [
    # CBSS
    ("founded in March 1992 in Copenhagen", EN),
    ("permanent secretariat in Stockholm since 1998", EN),
    ("Denmark, Estonia, Finland, Germany, Iceland, Latvia, Lithuania, Norway, Poland, Sweden and the European Union", EN),
    ("On 3 March 2022 the CBSS suspended Russia and suspended Belarus as an observer", EN),
    ("On 17 May 2022 Russia announced its withdrawal", EN),
    ("Ukraine is an observer state", EN),
    ("Regional Identity", EN),
    ("Safe & Secure Region", EN),
    ("Sustainable & Prosperous Region", EN),
    ("civil protection, child protection and trafficking", EN),
    # Expert Group on Children at Risk
    ("senior officials of the ministries or agencies responsible for children", EN),
    ("together with the European Commission", EN),
    ("governs the Children at Risk Unit", EN),
    ("meets at least twice a year", EN),
    ("rotates with the CBSS Presidency", EN),
    ("Regional cooperation on children in the Baltic Sea region began in 1998", EN),
    ("became part of the CBSS in 2002", EN),
    ("renamed from WGCC to EGCC on 1 May 2009", EN),
    ("prevention, early intervention, parenting and family support", EN),
    ("child-friendly justice", EN),
    ("children in alternative care", EN),
    ("protection from sexual abuse and exploitation", EN),
    ("preventing trafficking and exploitation", EN),
    ("the best interests of children in migration", EN),
    ("Strategy 2020–2025", EN),
    ("prevention and early intervention; protection, support and justice (Barnahus); and partnerships for children's rights", EN),
    ("Child participation runs through all three areas", EN),
    # Barnahus
    ("The first Barnahus was set up in Iceland in 1998", EN),
    ('"children\'s house"', EN),
    ("Bragi Guðbrandsson", EN),
    ("Children's Advocacy Centres in the United States", EN),
    ("the forensic interview, the medical examination, therapy and the child protection assessment", EN),
    ("under one roof", EN),
    ("can be used as evidence, so that the child need not face the accused in court", EN),
    ("The Council of Europe has promoted the Barnahus model since 2015", EN),
    ("published on 14 June 2017 by the CBSS Secretariat and Child Circle", EN),
    ("10 standards", EN),
    ("Standard 1 has three parts", EN),
    ("By 2021 the PROMISE Barnahus Quality Standards were available in 16 languages", EN),
    ('1.1 is called "Best interests of the child"', EN),
    ('1.2 is called "Right to be heard and to receive information"', EN),
    ('1.3 is called "Avoiding undue delay"', EN),
    ('Standard 2 is called "Multidisciplinary and interagency collaboration"', EN),
    ('Standard 3 is called "Inclusive target group"', EN),
    ('Standard 4 is called "Child-friendly environment"', EN),
    ('Standard 5 is called "Interagency case management"', EN),
    ('Standard 6 is called "Forensic interview"', EN),
    ('Standard 7 is called "Medical examination"', EN),
    ('Standard 8 is called "Therapeutic services"', EN),
    ('Standard 9 is called "Capacity building"', EN),
    ('Standard 10 is called "Prevention"', EN),
    ("PROMISE 1, ran from 2015 to 2017", EN),
    ("PROMISE 2, ran from 2017 to 2019", EN),
    ("PROMISE 3, ran from 2020 to 2022", EN),
    ("set up the European Competence Centre for Barnahus", EN),
    ("launched in Helsinki on 25 November 2019", EN),
    ("founders from 13 countries signed the statutes", EN),
    ("The European Barnahus Network is hosted by the CBSS Secretariat", EN),
    ("In February 2021 the European Barnahus Network had 31 members from 22 countries", EN),
    ("By April 2024 the European Barnahus Network had grown to 43 members in 27 countries", EN),
    # Transnational child protection
    ("Guidelines Promoting the Human Rights and the Best Interests of the Child in Transnational Child Protection Cases", EN),
    ("PROTECT Children on the Move", EN),
    ("cbss.org dates them 2015, while other sources give January 2016", EN),
    ("five expert meetings in 2014 and 2015 with partners in Latvia, Lithuania and Sweden", EN),
    ("assessed holistically and in a child-centred way", EN),
    ("the best-interests determination comes before the choice of a durable solution", EN),
    ("may be a return", EN),
    ("step-by-step case management, from the identification of the child to a durable solution", EN),
    ("regardless of nationality or migration status", EN),
    ("The 1st Addendum to the transnational Guidelines was issued in December 2016", EN),
    ("Practical Guide for caseworkers", EN),
    ("English, Lithuanian, Latvian, Russian, Estonian and Finnish", EN),
    ("The Stockholm Conclusions on transnational child protection date from December 2016", EN),
    ("Oslo Conclusions on identifying children at risk of exploitation and trafficking are dated 28 June 2018", EN),
    ("29–30 May 2018 with 80 participants from 12 countries", EN),
    # Corporal punishment bans
    ("corporal punishment of children in 1979, as the first country in the world", EN),
    ("Finland enacted a full legal ban on corporal punishment of children in 1983", EN),
    ("Norway enacted a full legal ban on corporal punishment of children in 1987", EN),
    ("Denmark enacted a full legal ban on corporal punishment of children in 1997", EN),
    ("Latvia enacted a full legal ban on corporal punishment of children in 1998", EN),
    ("Germany enacted a full legal ban on corporal punishment of children in 2000", EN),
    ("Iceland enacted a full legal ban on corporal punishment of children in 2003", EN),
    ("Poland enacted a full legal ban on corporal punishment of children in 2010", EN),
    ("Lithuania enacted a full legal ban on corporal punishment of children in February 2017", EN),
    ("Estonia passed its full legal ban on corporal punishment of children in November 2014", EN),
    ("came into force on 1 January 2016", EN),
    ("CBSS pages give 2015 as the year of the Estonian ban, so the sources differ", EN),
    ("about 3% of parents reported hitting their child in 2011, against 28% in 1980", EN),
    ("Global Initiative to End All Corporal Punishment of Children, supported by the European Union", EN),
    ("six guidance reports", EN),
    ("launched in Stockholm on 15–16 November 2018", EN),
    ("Step-by-Step Guide; Implementing prohibition in domestic settings; Awareness-raising campaigns; "
     "Service provision; Positive parenting; and Tracking progress", EN),
    # UNCRC
    ("adopted on 20 November 1989", EN),
    ("resolution 44/25", EN),
    ("entered into force on 2 September 1990", EN),
    ("196 states parties", EN),
    ("Article 3 of the UNCRC says that the best interests of the child are a primary consideration", EN),
    ("Article 12 of the UNCRC gives the child the right to be heard", EN),
    ("Article 19 of the UNCRC protects children from all forms of violence, abuse and neglect", EN),
    ("Article 34 of the UNCRC protects children from sexual exploitation and sexual abuse", EN),
    ("Article 39 of the UNCRC concerns the recovery and reintegration of child victims", EN),
    # AudTrain
    ("child-rights and system-based approach to the audit and monitoring of child welfare facilities", EN),
    ("built on a Norwegian method", EN),
    ("an inspection that includes talking with the children is followed by a system-based audit of the management system", EN),
    ("AudTrain I, ran from 2011 to 2013", EN),
    ("AudTrain I produced materials in English, Estonian, Latvian and Russian", EN),
    ("AudTrain II, ran from 2015 to 2017", EN),
    ("AudTrain II was co-funded by the European Union", EN),
    ("AudTrain II trained 40 auditors and 20 trainers", EN),
    ("held in Vilnius on 7–8 June 2017", EN),
    # Online risk and sexuality research
    ("Risktaking Online Behaviour Empowerment Through Research and Training", EN),
    ('"Online behaviour related to child sexual abuse" in 2011', EN),
    ("interviews with online offenders", EN),
    ("four publications in all", EN),
    ("Baltic Sea Regional Study on Adolescents' Sexuality was a survey of 18-year-olds carried out in 2003–04", EN),
    ("18-year-olds in Estonia, Lithuania, Norway, Poland and Sweden", EN),
    ("NOVA Rapport 18/2007", EN),
    # Trafficking
    ('"Children trafficked for exploitation in begging and criminality" is dated 12 March 2013', EN),
    ("concerns Lithuania, Norway, Poland and Sweden", EN),
    # Help
    ("The emergency number 112 works in every EU state, Iceland and Norway", "notes/helplines.en.md"),
    ("116 111 is the number that the European Union reserved for child helplines, by Commission Decision 2007/116/EC",
     "notes/helplines.en.md"),
]


def _guidance_facts() -> list[tuple[str, str]]:
    """Facts of the practical guidance notes (from shared/corpus-facts-guidance.md), one YAML
    file per group of notes in tests/guidance_facts/: ``{glob: [exact string, ...]}``."""
    out = []
    for path in sorted((Path(__file__).parent / "guidance_facts").glob("*.yaml")):
        for pattern, strings in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            out.extend((fact, pattern) for fact in strings)
    return out


FACTS += _guidance_facts()

# Each country's child helpline, exactly as in the facts table: one sentence must hold all three.
HELPLINES = [
    ("Denmark", "BørneTelefonen (Børns Vilkår)", "116 111"),
    ("Estonia", "Lasteabi", "116 111"),
    ("Finland", "MLL Lasten ja nuorten puhelin", "116 111"),
    ("Germany", "Nummer gegen Kummer", "116 111"),
    ("Iceland", "Red Cross helpline Hjálparsíminn", "1717"),
    ("Iceland", "Hjálparsíminn", "1717.is"),
    ("Latvia", "Bērnu un pusaudžu uzticības tālrunis", "116 111"),
    ("Lithuania", "Vaikų linija", "116 111"),
    ("Norway", "Alarmtelefonen for barn og unge", "116 111"),
    ("Poland", "Telefon Zaufania dla Dzieci i Młodzieży", "116 111"),
    ("Sweden", "BRIS", "116 111"),
    ("Ukraine", "La Strada-Ukraine national child hotline", "0 800 500 225"),
    ("Ukraine", "La Strada-Ukraine national child hotline", "116 111"),
]

# The facts that matter most in each country, in that country's own-language note.
COUNTRY_FACTS = {
    "sv": ("1979", "3 procent", "28 procent", "BRIS", "116 111", "112"),
    "de": ("2000", "Nummer gegen Kummer", "116 111", "112"),
    "pl": ("2010", "Telefon Zaufania dla Dzieci i Młodzieży", "116 111", "112", "NOVA Rapport 18/2007"),
    "fi": ("1983", "MLL Lasten ja nuorten puhelin", "116 111", "112", "Helsingissä"),
    "da": ("1997", "BørneTelefonen (Børns Vilkår)", "116 111", "112", "København"),
    "nb": ("1987", "Alarmtelefonen for barn og unge", "116 111", "112", "norsk metode"),
    "et": ("novembris 2014", "01.01.2016", "2015", "allikad", "Lasteabi", "116 111", "112"),
    "lt": ("2017 metų vasarį", "Vaikų linija", "116 111", "112", "Vilniuje"),
    "lv": ("1998", "Bērnu un pusaudžu uzticības tālrunis", "116 111", "112"),
    "uk": ("La Strada-Ukraine", "116 111", "0 800 500 225", "112", "спостерігачем"),
    "is": ("2003", "1998", "Braga Guðbrandssonar", "Hjálparsíminn", "1717", "1717.is", "112"),
}

ALLOWED_GROUPED_NUMBERS = {"116 111", "0 800 500 225"}
ALLOWED_SHORT_NUMBERS = {"112", "1717", "196"}  # 196: states parties to the UNCRC, not a phone number


def split_note(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: must open with '---' front matter"
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, f"{path.name}: front matter is not closed with '---'"
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    return meta, body


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


NOTE_PATHS = sorted(NOTES.glob("*.md"))


def _note_id(path: Path) -> str:
    return path.name


def corpus_text(pattern: str) -> str:
    paths = sorted(CORPUS.glob(pattern))
    assert paths, f"no corpus file matches {pattern}"
    return "\n".join(split_note(p)[1] if p.suffix == ".md" else p.read_text("utf-8") for p in paths)


def shared_seeds() -> Path | None:
    for candidate in (ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")):
        if candidate.is_dir():
            return candidate
    return None


def test_seed_page_is_shipped_byte_for_byte():
    seeds = shared_seeds()
    if seeds is None:
        pytest.skip("shared/seeds is not beside this checkout")
    assert (CORPUS / SEED_NAME).read_bytes() == (seeds / SEED_NAME).read_bytes()


def test_manifest_describes_the_seed_page():
    manifest = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest[SEED_NAME] == {
        "title": "Child Protection",
        "language": "en",
        "source_url": "https://cbss.org/safe-secure-region/child-protection/",
        "kind": "site-page",
        "copy_of_source": True,  # the page's own text: its quotes link to the page at their words
    }
    for name in manifest:
        assert (CORPUS / name).is_file(), f"manifest names a missing file: {name}"


@pytest.mark.parametrize("path", NOTE_PATHS, ids=_note_id)
def test_note_front_matter(path: Path):
    meta, _ = split_note(path)
    assert FRONT_KEYS <= set(meta), f"{path.name}: missing {FRONT_KEYS - set(meta)}"
    assert meta["kind"] == "guidance-note"
    assert meta["language"] in LOCALES
    assert str(meta["title"]).strip()
    assert str(meta["source_url"]).startswith("https://")
    topic, lang, ext = path.name.rsplit(".", 2)
    assert (lang, ext) == (meta["language"], "md"), f"{path.name}: name must be <topic>.{meta['language']}.md"
    assert re.fullmatch(r"[a-z0-9-]+", topic)


# No note is exempt any more: issue 13 gave every note that cited a homepage the pages of its facts.
HOMEPAGE_CITING: set[str] = set()


@pytest.mark.parametrize("path", [p for p in NOTE_PATHS if p.name not in HOMEPAGE_CITING], ids=_note_id)
def test_note_cites_a_page_not_a_homepage(path: Path):
    meta, _ = split_note(path)
    for url in [meta["source_url"], *meta.get("sources", [])]:
        assert re.match(r"https://[^/]+/[^\s]+", str(url)), f"{path.name}: {url} is a homepage, not the page of the facts"


@pytest.mark.parametrize("path", NOTE_PATHS, ids=_note_id)
def test_note_opens_with_disclaimer_pointing_to_source(path: Path):
    """The disclaimer is the note's preface, which the note asks never to be quoted as an answer."""
    meta, body = split_note(path)
    assert meta.get("quote_preface") is False, f"{path.name}: needs quote_preface: false"
    first = paragraphs(body)[0]
    assert not first.startswith("#")
    for marker in DISCLAIMERS[meta["language"]]:
        assert marker in first, f"{path.name}: disclaimer lacks {marker!r}"
    assert meta["source_url"] in first


@pytest.mark.parametrize("path", NOTE_PATHS, ids=_note_id)
def test_note_is_plain_prose_that_quotes_well(path: Path):
    meta, body = split_note(path)
    words = len(body.split())
    assert 150 <= words <= 450, f"{path.name}: {words} words"
    for line in body.splitlines():
        if line.startswith("#"):
            assert re.match(r"## \S", line), f"{path.name}: only '## ' headings: {line!r}"
            continue
        assert not re.match(r"\s*([-*+>|]|\d+[.)])\s", line), f"{path.name}: list/quote/table line: {line!r}"
    prose = "\n".join(line for line in body.splitlines() if not line.startswith("#"))
    for pattern, what in [
        (r"\*|`|<[a-zA-Z/]", "emphasis, code or HTML"),
        (r"(?<!\w)_\S|\S_(?!\w)", "underscore emphasis"),
        (r"\]\(|\[[^\]]*\]", "Markdown link"),
        (r"(?i)\b(e\.g|i\.e|etc|z\.\s?B|bzw|bl\.a|f\.eks|m\.in|esim|nr|art|st|dr|vs|no|ca|approx)\.", "abbreviation"),
        (r"\d\.\s+[a-zà-žа-я]", "ordinal number with a period mid-sentence"),
    ]:
        found = re.search(pattern, prose)
        assert not found, f"{path.name}: {what}: {found.group(0)!r}"
    if meta["language"] == "en":
        for para in paragraphs(body)[1:]:
            for sentence in sentences(para):
                assert not re.match(r"(It|Its|They|Their|This|These|He|She|That)\b", sentence), (
                    f"{path.name}: sentence does not name its subject: {sentence!r}"
                )


def test_enough_notes_in_english_and_other_languages():
    languages = [split_note(p)[0]["language"] for p in NOTE_PATHS]
    assert languages.count("en") >= 12
    others = [lang for lang in languages if lang != "en"]
    assert len(others) >= 4
    assert set(LOCALES) - {"en"} <= set(others), f"missing: {set(LOCALES) - {'en'} - set(others)}"


@pytest.mark.parametrize(("fact", "pattern"), FACTS, ids=[f for f, _ in FACTS])
def test_fact_is_in_the_corpus(fact: str, pattern: str):
    assert fact in corpus_text(pattern)


@pytest.mark.parametrize(("country", "name", "number"), HELPLINES)
def test_helpline_sentence_names_country_helpline_and_number(country: str, name: str, number: str):
    _, body = split_note(NOTES / "helplines.en.md")
    assert any(
        country in s and name in s and number in s for s in sentences(body)
    ), f"no sentence names {country}, {name} and {number}"


@pytest.mark.parametrize("lang", sorted(COUNTRY_FACTS))
def test_country_note_holds_its_country_facts(lang: str):
    text = corpus_text(f"notes/*.{lang}.md")
    missing = [fact for fact in COUNTRY_FACTS[lang] if fact not in text]
    assert not missing


def test_thirty_four_contexts_figure_is_only_on_the_site_page():
    notes = corpus_text("notes/*.md")
    assert not re.search(r"(?<!Article )\b34\b", notes)  # Article 34 of the UNCRC is another fact
    assert "34 national contexts" in (CORPUS / SEED_NAME).read_text(encoding="utf-8")


GROUPED = r"(?<![\d/.,–-])\d{1,4}(?: \d{2,4})+(?![\d/])"


def unknown_numbers(text: str) -> set[str]:
    """Phone-like numbers in ``text`` that are not in the helpline allow-list (years pass)."""
    text = re.sub(r"https?://\S+", " ", text.replace("\u00a0", " "))
    found = set(re.findall(GROUPED, text)) - ALLOWED_GROUPED_NUMBERS
    found |= set(re.findall(r"\+\s?\d[\d ]*|\b\d{5,}\b", text))
    for number in re.findall(r"(?<![\d/.,–-])\d{3,4}(?![\d/,–-]|\.\d)", re.sub(GROUPED, " ", text)):
        is_year = len(number) == 4 and 1900 <= int(number) <= 2030 and number != "1717"
        if not (is_year or number in ALLOWED_SHORT_NUMBERS):
            found.add(number)
    return found


def test_number_scanner_catches_wrong_numbers():
    good = "Call 112 or 116 111, in Ukraine also 0 800 500 225; in Iceland 1717 (chat 1717.is) since 1979."
    assert unknown_numbers(good) == set()
    for bad in ("call 116 123", "call 116111", "call +46 8 123", "call 113", "ring 0800 500 225", "call 1718"):
        assert unknown_numbers(bad), bad


@pytest.mark.parametrize("path", NOTE_PATHS, ids=_note_id)
def test_only_known_helpline_numbers(path: Path):
    _, body = split_note(path)
    assert unknown_numbers(body) == set(), path.name
