"""Faults, for real: a Chroma server that goes away and comes back under a running web app, two
apps on one server, a broken BM25 index, an index built by another chunker, a cold start."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys

import pytest

from assistant.census import builder_version
from assistant.config import Settings
from assistant.service import build_assistant
from assistant.web import API_NAME, serve
from conftest import free_port
from test_ingestion import TOPICS, make, write_corpus


def test_chroma_server_stopped_under_the_running_app_and_back(tmp_path, chroma_server):
    from gradio_client import Client

    write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", chroma_url=chroma_server.url)
    assistant = build_assistant(settings)
    demo = serve(assistant, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False, analytics_enabled=False)
        assert "1998" in client.predict("Where did the first Barnahus open?", "en", "", api_name=f"/{API_NAME}")

        chroma_server.stop()
        down = client.predict("Mój tata mnie bije. Gdzie otworzono pierwszy Barnahus?", "pl", "PL", api_name=f"/{API_NAME}")
        assert "Dokumenty są chwilowo niedostępne" in down  # said in the message's language
        assert "112" in down and "116 111" in down  # the notice and the helpline do not need the index
        assert "Traceback" not in down
        plain = client.predict("Where did the first Barnahus open?", "en", "", api_name=f"/{API_NAME}")
        assert "unavailable for a moment" in plain and "112" in plain

        chroma_server.start()  # same port, same data: the app answers again without a restart
        assert "1998" in client.predict("Where did the first Barnahus open?", "en", "", api_name=f"/{API_NAME}")
    finally:
        demo.close()


def test_two_apps_on_one_chroma_server_agree_and_follow_each_others_ingest(tmp_path, chroma_server, monkeypatch,
                                                                          seed_example_caches):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    first = build_assistant(Settings(data_dir=tmp_path / "one", corpus_dir=corpus, chroma_url=chroma_server.url))
    first.ensure_index()
    second = build_assistant(Settings(data_dir=tmp_path / "two", corpus_dir=corpus, chroma_url=chroma_server.url))
    second.ensure_index()  # finds the index filled: no ingest, its own BM25 built from the store

    question = "When did Sweden ban corporal punishment?"
    seed_example_caches(tmp_path / "three")
    other_process = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", question],
        env={"PATH": "/usr/bin:/bin", "ASSISTANT_CHROMA_URL": chroma_server.url, "ASSISTANT_CORPUS_DIR": str(corpus),
             "ASSISTANT_DATA_DIR": str(tmp_path / "three"), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"},
        capture_output=True, text=True, timeout=600, check=True)
    answers = [first.ask(question), second.ask(question)]
    assert answers[0].quotes == answers[1].quotes and "1979" in answers[0].text
    assert all(q.text in other_process.stdout for q in answers[0].quotes)

    write_corpus(corpus, {**TOPICS, "audits": "The Zorblax audit of child-friendly justice took place in 2031."})
    first.ingest()
    monkeypatch.setattr("assistant.service._CENSUS_TTL", 0.0)  # instead of waiting two seconds
    followed = second.ask("When did the Zorblax audit take place?")
    assert any("Zorblax" in q.text for q in followed.quotes)
    assert second.lexical.search("Zorblax", "en", 3)  # its BM25 index was rebuilt from the store


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_broken_bm25_index_is_rebuilt_with_a_warning(tmp_path, caplog, damage):
    make(tmp_path).ingest()
    index = tmp_path / "data" / "bm25" / "guidance"
    if damage == "missing":
        for f in index.iterdir():
            f.unlink()
    else:
        for f in index.iterdir():
            f.write_bytes(b"\x00garbage")
    fresh = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="assistant.lexical"):
        assert fresh.ensure_index() is None  # the store is fine: no ingest
    assert "rebuilding it" in caplog.text
    hits = fresh.lexical.search("1979", "en", 3)
    assert hits and "1979" in fresh.store.get_chunks([hits[0][0]])[0].text


def test_index_built_by_another_chunker_is_ingested_again_at_start(tmp_path, caplog):
    a = make(tmp_path)
    a.ingest()
    # An older chunker split the text otherwise: some of today's sentences have no vector.
    dropped = list(a.store.held_sentences())[:3]
    a.store.delete_sentences(dropped)
    a.store.write_census(dataclasses.replace(a.store.read_census(), builder="an-older-chunker"))

    restarted = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="assistant.service"):
        report = restarted.ensure_index()
    assert "another version of the chunker" in caplog.text
    assert report is not None and report.sentences_added == len(dropped)
    assert set(dropped) <= set(restarted.store.held_sentences())
    assert restarted.store.read_census().builder == builder_version()
    assert make(tmp_path).ensure_index() is None  # in step now: the next start ingests nothing
    restarted.store.count = restarted.store.read_census = None  # a second call must not touch the store
    assert restarted.ensure_index() is None  # done once (the CLI's serve, then serve itself): costs nothing


def test_start_up_warms_every_part_before_serving(tmp_path, monkeypatch):
    make(tmp_path).ingest()
    assistant = make(tmp_path)
    assistant.ensure_index()
    assert assistant.embedder._model is not None and assistant.detector._detector is not None
    calls = []
    monkeypatch.setattr(type(assistant.embedder), "_get", lambda self: calls.append(1) or self._model)
    assistant.ask("When did Sweden ban corporal punishment?")
    assert calls  # the model is used ...
    assert assistant.embedder._model is not None and assistant.store._census is not None  # ... nothing loaded anew


def test_many_questions_at_once_through_the_api(app_url, shipped_assistant):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    assert shipped_assistant.settings.concurrency > 1
    questions = ["When did Sweden ban corporal punishment?", "Wann wurde das erste Barnahus gegründet?",
                 "Jaki jest numer telefonu zaufania dla dzieci?", "my dad hits me and im scared to go home"] * 3

    def ask(question: str) -> str:
        return Client(app_url, verbose=False, analytics_enabled=False).predict(question, "en", "", api_name=f"/{API_NAME}")

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        answers = list(pool.map(ask, questions))
    alone = [shipped_assistant.ask(q, locale="en").text for q in questions[:4]]
    assert answers[:4] == alone and answers[4:8] == alone  # the same answers as one at a time
