"""Chroma behind a real `chroma run` server, through HttpClient."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.service import build_assistant
from conftest import free_port
from test_ingestion import write_corpus


def test_ingest_and_ask_through_a_chroma_server(tmp_path, chroma_server):
    write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", chroma_url=chroma_server.url)
    report = build_assistant(settings).ingest()
    assert report.chunks_added > 0
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
    again = build_assistant(settings)
    assert again.ingest().chunks_added == 0
    answer = again.ask("Where did the first Barnahus open?")
    assert any("Iceland" in q.text for q in answer.quotes)


def test_server_down_is_a_clear_error(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="chroma run"):
        build_assistant(settings).store.count()
