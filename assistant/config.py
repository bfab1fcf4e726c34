"""Settings: read once from ``ASSISTANT_*`` environment variables and passed explicitly.

This is the only module that reads the environment for the assistant's own settings.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping

from .calibration import CALIBRATION
from .errors import ConfigError

LOCALES = ("en", "da", "de", "et", "fi", "is", "lv", "lt", "nb", "pl", "sv", "uk")
RETRIEVAL_MODES = ("hybrid", "dense", "bm25")
FEEDBACK_QUESTIONS = ("masked", "none")
# A CSP source expression for frame-ancestors: a keyword, or a scheme with a host (maybe *.host) and port.
_FRAME_ANCESTOR = re.compile(r"'self'|'none'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Switches that keep Gradio, gradio_client, Chroma and the Hugging Face hub from calling home,
# and OpenMP threads from spinning on a 2-core machine. A value set by the operator wins.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "OMP_WAIT_POLICY": "PASSIVE",
    "TOKENIZERS_PARALLELISM": "false",
}


def parse_bool(raw: str) -> bool:
    """``true``/``yes``/``on``/``1`` or ``false``/``no``/``off``/``0`` (any case); else ValueError."""
    word = raw.strip().lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise ValueError("expected true or false")


def apply_offline_env() -> None:
    """Set OFFLINE_ENV (without overriding) before Gradio, Chroma or a model is imported."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)


def _checkout() -> Path:
    """Where the defaults live: the project folder when running from a checkout (it holds the
    shipped corpus), else the working directory; so the index never lands elsewhere because
    the command was run from another folder."""
    return PROJECT_ROOT if (PROJECT_ROOT / "corpus").is_dir() else Path.cwd()


def _default_corpus() -> Path:
    return _checkout() / "corpus"


def _default_data() -> Path:
    return _checkout() / "data"


@dataclass(frozen=True)
class Settings:
    """Every knob of the assistant. ``ENV`` maps each field to its variable and help text."""

    data_dir: Path = _default_data()
    corpus_dir: Path = _default_corpus()
    chroma_url: str = ""
    collection: str = "guidance"
    embedder: str = "e5"
    st_query_prompt: str = ""
    st_passage_prompt: str = ""
    chunk_size: int = 800
    chunk_overlap: int = 1
    crawl_concurrency: int = 4
    crawl_delay: float = 1.0
    crawl_timeout: float = 20.0
    crawl_retries: int = 2
    top_k: int = 8
    retrieval: str = "hybrid"
    max_quotes: int = 4
    max_quotes_per_doc: int = 2
    min_relevance: float = CALIBRATION.min_relevance
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency: int = 32
    rate_limit: int = 20
    trusted_proxies: int = 0
    frame_ancestors: str = "'self'"
    feedback_questions: str = "masked"
    feedback_days: int = 180
    exit_url: str = "https://www.google.com/"
    default_locale: str = "en"
    country: str = ""
    max_message_chars: int = 2000
    debug: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from ``ASSISTANT_*`` variables (``environ`` defaults to ``os.environ``)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            var = "ASSISTANT_" + f.name.upper()
            if var not in environ or environ[var] == "":
                continue
            raw = environ[var].strip()
            default = getattr(cls, f.name)
            try:
                if isinstance(default, bool):
                    values[f.name] = parse_bool(raw)
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                elif isinstance(default, float):
                    values[f.name] = float(raw)
                elif isinstance(default, Path):  # relative to the working directory, like any shell path
                    values[f.name] = Path(raw).expanduser().absolute()
                else:
                    values[f.name] = raw
            except ValueError as exc:
                raise ConfigError(f"{var}={raw!r} is not valid ({exc}); unset it or give a {type(default).__name__}.") from exc
        values.update(overrides)
        return cls(**values).validated()

    def replace(self, **changes: object) -> "Settings":
        return replace(self, **changes).validated()

    def validated(self) -> "Settings":
        def bad(name: str, why: str) -> ConfigError:
            return ConfigError(f"ASSISTANT_{name.upper()}: {why}")

        if self.retrieval not in RETRIEVAL_MODES:
            raise bad("retrieval", f"{self.retrieval!r} is not one of {', '.join(RETRIEVAL_MODES)}")
        if self.default_locale not in LOCALES:
            raise bad("default_locale", f"{self.default_locale!r} is not one of {' '.join(LOCALES)}")
        if self.chunk_size < 100:
            raise bad("chunk_size", "must be at least 100 characters")
        if not 0 <= self.chunk_overlap <= 5:
            raise bad("chunk_overlap", "must be 0 to 5 sentences")
        if not 1 <= self.top_k <= 100:
            raise bad("top_k", "must be between 1 and 100")
        if not 1 <= self.max_quotes <= 10 or not 1 <= self.max_quotes_per_doc <= 10:
            raise bad("max_quotes", "max_quotes and max_quotes_per_doc must be between 1 and 10")
        if not 0 < self.port < 65536:
            raise bad("port", "must be between 1 and 65535")
        if not 1 <= self.concurrency <= 64:
            raise bad("concurrency", "must be between 1 and 64")
        if not 0 <= self.rate_limit <= 10000:
            raise bad("rate_limit", "must be between 0 (no limit) and 10000 messages a minute")
        if not 0 <= self.trusted_proxies <= 10:
            raise bad("trusted_proxies", "must be between 0 (X-Forwarded-For ignored) and 10")
        bad_origins = [o for o in self.frame_ancestors.split() if not _FRAME_ANCESTOR.fullmatch(o)]
        if bad_origins or not self.frame_ancestors.split():
            raise bad("frame_ancestors", f"{' '.join(bad_origins) or 'empty'}: give origins such as https://cbss.org "
                                         "separated by spaces, or 'self' or 'none'")
        if self.feedback_questions not in FEEDBACK_QUESTIONS:
            raise bad("feedback_questions", f"{self.feedback_questions!r} is not one of {', '.join(FEEDBACK_QUESTIONS)}")
        if not 1 <= self.feedback_days <= 3650:
            raise bad("feedback_days", "must be between 1 and 3650 days")
        if not re.fullmatch(r"https?://[^\s\"'<>]+", self.exit_url):
            raise bad("exit_url", f"{self.exit_url!r} must be an http:// or https:// address (the neutral page the quick exit opens)")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise bad("chroma_url", "must start with http:// or https:// (e.g. http://127.0.0.1:8000)")
        if not 1 <= self.crawl_concurrency <= 32:
            raise bad("crawl_concurrency", "must be between 1 and 32")
        for name in ("crawl_delay", "crawl_retries"):
            if getattr(self, name) < 0:
                raise bad(name, "must not be negative")
        if self.crawl_timeout <= 0:
            raise bad("crawl_timeout", "must be more than 0 seconds")
        if self.max_message_chars < 10:
            raise bad("max_message_chars", "must be at least 10")
        return self


# Help text for each variable, used by the README table test and `assistant --help`.
ENV_HELP: dict[str, str] = {
    "data_dir": "Where the Chroma index, BM25 index and feedback database live (default: `data/` in the project folder).",
    "corpus_dir": "Folder of documents to ingest (default: the shipped `corpus/` in the project folder).",
    "chroma_url": "URL of a `chroma run` server (e.g. `http://127.0.0.1:8000`); empty = embedded Chroma in the data dir.",
    "collection": "Chroma collection name.",
    "embedder": "`e5` (bundled multilingual-e5-small), `minilm` (bundled all-MiniLM-L6-v2) or `st:<model id or path>` (sentence-transformers).",
    "st_query_prompt": "Prefix for queries with a sentence-transformers model (e.g. `query: `).",
    "st_passage_prompt": "Prefix for passages with a sentence-transformers model (e.g. `passage: `).",
    "chunk_size": "Target chunk size in characters (chunks are whole sentences).",
    "chunk_overlap": "Sentences shared by neighbouring chunks.",
    "crawl_concurrency": "Web pages fetched at the same time when `assistant ingest` syncs web sources (requests to one host still start `ASSISTANT_CRAWL_DELAY` apart).",
    "crawl_delay": "Seconds between two requests to the same host (politeness).",
    "crawl_timeout": "Seconds to wait for a web page before that try fails.",
    "crawl_retries": "Further tries for a page that timed out or answered 5xx (with back-off: 0.5 s, 1 s, 2 s, ...).",
    "top_k": "Chunks retrieved per question.",
    "retrieval": "`hybrid` (dense + BM25), `dense` or `bm25`.",
    "max_quotes": "Most quotes in one answer.",
    "max_quotes_per_doc": "Most quotes from one document in one answer.",
    "min_relevance": "Relevance below which the assistant always says the documents do not answer; above it, the scope read-out decides (see `assistant/calibration.py`).",
    "host": "Address the web chat listens on.",
    "port": "Port of the web chat.",
    "concurrency": "Questions the web chat answers at the same time (page and API together); more wait in Gradio's queue.",
    "rate_limit": "Messages one client (address) may send per minute, chat and API together; more are answered with a request to wait. 0 = no limit.",
    "trusted_proxies": "Reverse proxies in front of the chat: with N > 0 the client address is the N-th entry from the right of `X-Forwarded-For`; with 0 the header is ignored.",
    "frame_ancestors": "Origins allowed to embed the chat in a frame, separated by spaces (CSP `frame-ancestors`), e.g. `https://cbss.org`; `'self'` = only the chat's own origin.",
    "feedback_questions": "What feedback keeps of the question: `masked` (e-mails, phone and identity numbers masked; a message that raised the safety notice is never kept) or `none`.",
    "feedback_days": "Days a feedback row is kept; older rows are deleted.",
    "exit_url": "The neutral page that \"Leave this page\" (or Esc three times) replaces the chat with, at once and without a history entry.",
    "default_locale": "Interface language when the browser asks for none we have.",
    "country": "ISO country code (e.g. `SE`) whose child helpline the safety notice shows; empty = from the interface language.",
    "max_message_chars": "Longest message accepted.",
    "debug": "Log message text (with e-mails, phone and identity numbers masked).",
}
