"""Chroma behind a real `chroma run` server, through HttpClient."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.service import build_assistant
from conftest import free_port
from test_ingestion import write_corpus


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start in 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_ask_through_a_chroma_server(tmp_path, chroma_server):
    write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", chroma_url=chroma_server)
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
