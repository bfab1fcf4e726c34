"""Every error the assistant raises on purpose, in one tree.

    AssistantError              base; its message says what happened and what to do
     ├── ConfigError            a bad ASSISTANT_* value
     ├── LoaderError            one file could not be read (ingest reports it and goes on)
     ├── IngestError            the ingest as a whole could not run (e.g. locked, no corpus)
     ├── EmbedderError          the embedding model could not be loaded or run
     ├── StoreError             Chroma could not be opened or reached
     │    └── EmbedderMismatchError   the index was built by another embedding model
     ├── InputError             a message or file the user gave is unusable (empty, too long, binary)
     └── EvaluationError        a question set or an earlier report is malformed
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of all errors; ``str(error)`` is meant for the person who runs the assistant."""


class ConfigError(AssistantError):
    """A configuration value is missing or invalid."""


class LoaderError(AssistantError):
    """A single source file could not be read; ``path`` names it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IngestError(AssistantError):
    """The ingest could not run at all."""


class CrawlError(AssistantError):
    """One web address could not be fetched (or may not be); ``url`` names it. Never fatal to a sync."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class EmbedderError(AssistantError):
    """The embedding model could not be loaded or failed."""


class StoreError(AssistantError):
    """The vector store could not be opened, reached or written."""


class EmbedderMismatchError(StoreError):
    """The collection was built with a different embedder or dimension."""


class InputError(AssistantError):
    """A user's message or file cannot be used as it is.

    ``message`` is an English msgid with ``{placeholders}``; the web and CLI translate it with
    ``tr.gettext(error.message).format(**error.params)``.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


class EvaluationError(AssistantError):
    """A question set or a results file is malformed."""
