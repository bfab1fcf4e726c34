"""Shared fixtures: offline switches, a guard against any network beyond loopback, settings on
temp dirs, and the shipped corpus ingested once per session with the real bundled model."""

from __future__ import annotations

import ipaddress
import os
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.config import OFFLINE_ENV, Settings  # noqa: E402 - cheap, imports nothing heavy

for _key, _value in {**OFFLINE_ENV, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}.items():
    os.environ[_key] = _value
for _key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
    del os.environ[_key]  # tests set their own settings


PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
SHARED = PROJECT.parent / "shared"


def _is_local(host: object) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded(real):  # noqa: ANN001, ANN202
    def connect(self, address):  # noqa: ANN001, ANN202
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise ConnectionRefusedError(f"test tried to reach {address[0]}: only loopback is allowed in tests")
        return real(self, address)
    return connect


socket.socket.connect = _guarded(_real_connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded(_real_connect_ex)  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A real `chroma run` on a loopback port over ``path``; it can be stopped and started again."""

    def __init__(self, path: Path) -> None:
        self.path, self.port, self.proc = path, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "ChromaServer":
        import subprocess
        import sys
        import time

        chroma = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("chroma run did not start in 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture
def chroma_server(tmp_path):
    """The URL of a real `chroma run` server on loopback, for one test."""
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


@contextmanager
def served(assistant):  # noqa: ANN001, ANN201
    """The real web app for ``assistant`` on a free loopback port; yields its URL."""
    from assistant.web import serve

    demo = serve(assistant, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        yield demo.local_url.rstrip("/")
    finally:
        demo.close()


@pytest.fixture(scope="module")
def app_url(shipped_assistant):
    """The real web app on a free loopback port, serving the shipped index."""
    with served(shipped_assistant) as url:
        yield url


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate",
]


AXE_CORE = Path(os.environ.get("AXE_CORE") or PROJECT / ".venv/axe/node_modules/axe-core/axe.min.js")


def pytest_configure(config: pytest.Config) -> None:
    """Under CI (CI=true) the browser tests are not optional: what they need must be installed."""
    if os.environ.get("CI", "").lower() not in ("true", "1", "yes"):
        return
    missing = [what for what, present in (
        (f"Chromium at {CHROMIUM}", CHROMIUM.exists()),
        (f"axe-core at {AXE_CORE}", AXE_CORE.exists()),
        ("playwright (pip install -e '.[test]')", _importable("playwright.sync_api")),
    ) if not present]
    if missing:
        raise pytest.UsageError("CI=true, so the browser tests must run, but these are missing: "
                                + "; ".join(missing) + ". Run `make browser` (it installs them) and check its output.")


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright (never `playwright install`)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium chromium-driver`, "
                    "done by `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright from PyPI (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a fresh data dir on tmp_path and the shipped corpus."""
    return Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def shipped_assistant(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The shipped corpus ingested once into a temp index with the bundled e5."""
    from assistant.service import build_assistant

    data = tmp_path_factory.mktemp("shipped-index")
    # Every test client comes from 127.0.0.1: the per-client limit is tested on its own app.
    assistant = build_assistant(Settings(data_dir=data, corpus_dir=CORPUS, rate_limit=0))
    assistant.ingest()
    return assistant


@pytest.fixture(scope="session")
def seed_example_caches(shipped_assistant):  # noqa: ANN201
    """Copies the shipped index's example-bank vectors into a fresh data dir, for a test that
    runs the CLI in a new process there: embedding the safeguarding bank again takes ~45 s."""
    import shutil

    shipped_assistant.ensure_index()  # warms the banks, so their caches are on disk

    def seed(data_dir: Path) -> None:
        for folder in ("safeguarding", "scope"):
            if (shipped_assistant.settings.data_dir / folder).is_dir():
                shutil.copytree(shipped_assistant.settings.data_dir / folder, data_dir / folder, dirs_exist_ok=True)
    return seed


def assert_faithful(assistant, answer) -> None:  # noqa: ANN001
    """Every quote is the exact text at its offsets in its source document, and the answer shows
    it whole (escaped for Markdown, which renders as the same characters)."""
    from assistant.citations import escape_markdown
    from assistant.text import one_line

    for quote in answer.quotes:
        text = assistant.document_text(quote.doc_id)
        assert text[quote.start:quote.end] == quote.text, quote
        assert escape_markdown(one_line(quote.text)) in answer.text, quote
