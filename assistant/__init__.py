"""CBSS child-protection guidance assistant: answers by quoting its documents verbatim.

    from assistant import Settings, build_assistant
    assistant = build_assistant(Settings.from_env())
    assistant.ensure_index()
    print(assistant.ask("When did Sweden ban corporal punishment?").text)

Importing this package is cheap: models, Chroma and lingua load on first use.
"""

import os

# Before numpy loads OpenBLAS: its threads, one set per concurrent question on 2 cores, fought
# over the cores for a matrix-vector product; one thread each doubled the web chat's
# throughput under load (benchmarks/load.py: 30 → 50 answers/s, 63 → 33 ms of CPU an answer).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .config import LOCALES, Settings  # noqa: E402
from .errors import AssistantError, ConfigError, EmbedderMismatchError, InputError, IngestError, LoaderError, StoreError
from .types import Answer, Chunk, Citation, Document, Hit, Quote, SafeguardingNotice, Turn

__all__ = [
    "LOCALES", "Settings", "build_assistant", "Assistant",
    "AssistantError", "ConfigError", "EmbedderMismatchError", "InputError", "IngestError", "LoaderError", "StoreError",
    "Answer", "Chunk", "Citation", "Document", "Hit", "Quote", "SafeguardingNotice", "Turn",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy: the service pulls in numpy and friends
    if name in ("build_assistant", "Assistant"):
        from . import service
        return getattr(service, name)
    raise AttributeError(name)
