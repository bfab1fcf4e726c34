"""CBSS child-protection guidance assistant: answers by quoting its documents verbatim.

    from assistant import Settings, build_assistant
    assistant = build_assistant(Settings.from_env())
    assistant.ensure_index()
    print(assistant.ask("When did Sweden ban corporal punishment?").text)

Importing this package is cheap: models, Chroma and lingua load on first use.
"""

from .config import LOCALES, Settings
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
