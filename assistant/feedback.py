"""Feedback on answers: thumbs up/down with an optional comment, kept in SQLite.

Each row holds the question (masked, or not at all: ``questions``), the ids of the quotes the
answer gave, the interface locale, the rating, the comment (masked) and the day it was given;
nothing else about the person (no IP, no session, no user agent, no time of day). A question
that raised the safety notice is never kept: it may be a child's disclosure, with names that
no mask recognises. Rows older than ``keep_days`` are deleted. ``export_csv`` hands the rows
to the evaluation team. A corrupt database file is moved aside (never deleted) and a fresh one
started.
"""

from __future__ import annotations

import csv
import logging
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Iterable, Sequence

from .config import FEEDBACK_QUESTIONS, LOCALES, Settings
from .errors import InputError
from .privacy import mask_personal_data
from .text import one_line
from .types import Quote

__all__ = ["FeedbackStore", "FEEDBACK_FILE", "RATINGS", "MAX_COMMENT_CHARS", "quote_id", "WITHHELD"]

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.sqlite3"  # in the data dir
RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000
MAX_QUESTION_CHARS = 20000  # far above any accepted message; only guards the table's size
CSV_COLUMNS = ("id", "day", "locale", "rating", "question", "quote_ids", "comment")
WITHHELD = ""  # the question column of a row whose question is not kept
# 1: questions and comments masked (rows written before were masked when the file was first opened).
_SCHEMA_VERSION = 1
# Only these mean the file itself is bad; "database is locked" or "unable to open" must not move it.
_CORRUPT_CODES = (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    day       TEXT NOT NULL,     -- UTC date only: enough to order feedback, too coarse to identify anyone
    locale    TEXT NOT NULL,
    rating    TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question  TEXT NOT NULL,
    quote_ids TEXT NOT NULL,     -- space-separated quote ids, see quote_id()
    comment   TEXT NOT NULL DEFAULT ''
)
"""


def quote_id(quote: Quote) -> str:
    """A readable, stable id for a quote: ``<doc_id>@<sha256 prefix>#<start>-<end>``.

    The offsets point into the text of the document version named by the hash of its source
    file, so after the document is edited the id still says which text was quoted."""
    version = f"@{quote.doc_sha256[:12]}" if quote.doc_sha256 else ""
    return f"{quote.doc_id}{version}#{quote.start}-{quote.end}"


class FeedbackStore:
    """Feedback rows in one SQLite file (``<data_dir>/feedback.sqlite3`` by convention).

    A connection is opened per call: Gradio runs handlers in worker threads and SQLite
    connections must not cross threads. The file's health is checked once, on first use.
    """

    def __init__(self, path: Path | str, *, questions: str = "masked", keep_days: int = 180) -> None:
        if questions not in FEEDBACK_QUESTIONS:
            raise ValueError(f"questions must be one of {FEEDBACK_QUESTIONS}, not {questions!r}")
        self.path = Path(path)
        self.questions = questions
        self.keep_days = keep_days
        self._checked = False
        self._check_lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> "FeedbackStore":
        """The deployment's store: ``<data_dir>/feedback.sqlite3`` with its privacy settings."""
        return cls(settings.data_dir / FEEDBACK_FILE, questions=settings.feedback_questions,
                   keep_days=settings.feedback_days)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._checked:  # cheap read first; the lock makes the check run once across threads
            with self._check_lock:
                if not self._checked:
                    self._set_aside_if_corrupt()
                    self._migrate()
                    self._checked = True
        conn = sqlite3.connect(self.path, timeout=10)
        conn.execute(_SCHEMA)  # cheap; recreates the table if the file was removed since
        return conn

    def _migrate(self) -> None:
        """Bring a file written by an older version up to this schema (once per store)."""
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.execute(_SCHEMA)
            if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                with conn:  # rows kept by an older version held the question as typed
                    rows = conn.execute("SELECT id, question, comment FROM feedback").fetchall()
                    conn.executemany("UPDATE feedback SET question = ?, comment = ? WHERE id = ?",
                                     [(mask_personal_data(q), mask_personal_data(c), i) for i, q, c in rows])
                    conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _set_aside_if_corrupt(self) -> None:
        """Move a corrupt file to ``<name>.corrupt-<UTC time>`` so a fresh one is created."""
        if not self.path.exists():
            return
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as conn:
                result = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in _CORRUPT_CODES:
                raise  # locked, unreadable, ...: the file may be fine, so leave it where it is
            problem = str(exc)
        else:
            if result == [("ok",)]:
                return
            # quick_check names pages and indexes, never row contents, so it is safe to log.
            problem = "quick_check: " + one_line(" ".join(str(r[0]) for r in result))[:200]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():  # two failures in one second must not overwrite the first
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        # No -journal/-wal to carry along: the check's own connection has already dealt with them.
        self.path.rename(aside)
        # Only paths and SQLite's own message: no question or comment text reaches the log.
        log.warning(
            "Feedback database %s could not be read (%s). It was moved, unchanged, to %s and a new "
            "empty database was started; nothing was deleted and nothing needs doing.",
            self.path, problem, aside,
        )

    def add(
        self,
        question: str,
        quote_ids: Sequence[str],
        locale: str,
        rating: str,
        comment: str = "",
        *,
        notice: bool = False,
    ) -> int:
        """Store one rating and return its row id; rows past ``keep_days`` go at the same time.

        The question is masked (or withheld with ``questions="none"``, and always when the
        answer carried the safety notice: ``notice``); the comment is masked and cut to 2,000
        characters."""
        if rating not in RATINGS:
            raise InputError("Rating {rating} is not valid; use up or down.", rating=repr(rating))
        if locale not in LOCALES:
            raise InputError("Locale {locale} is not supported; use one of {locales}.", locale=repr(locale), locales=" ".join(LOCALES))
        ids = [str(q).strip() for q in quote_ids if str(q).strip()]
        if any(" " in q for q in ids):
            raise InputError("Quote ids must not contain spaces; use quote_id() to make them.")
        kept = WITHHELD if notice or self.questions == "none" else mask_personal_data((question or "")[:MAX_QUESTION_CHARS])
        today = datetime.now(timezone.utc).date()
        row = (
            today.isoformat(),
            locale,
            rating,
            kept,
            " ".join(ids),
            mask_personal_data((comment or "").strip()[:MAX_COMMENT_CHARS]),
        )
        with closing(self._connect()) as conn, conn:
            self._expire(conn)
            cursor = conn.execute(
                "INSERT INTO feedback (day, locale, rating, question, quote_ids, comment) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid or 0)

    def _expire(self, conn: sqlite3.Connection) -> None:
        oldest = datetime.now(timezone.utc).date() - timedelta(days=self.keep_days)
        conn.execute("DELETE FROM feedback WHERE day < ?", (oldest.isoformat(),))

    def rows(self) -> list[dict[str, object]]:
        """Every row, oldest first, as dicts keyed by the CSV columns (``quote_ids`` as a list)."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            with conn:
                self._expire(conn)
            cursor = conn.execute(f"SELECT {', '.join(CSV_COLUMNS)} FROM feedback ORDER BY id")
            result = [dict(zip(CSV_COLUMNS, values)) for values in cursor.fetchall()]
        for row in result:
            row["quote_ids"] = str(row["quote_ids"]).split()
        return result

    def export_csv(self, out: Path | str | IO[str]) -> int:
        """Write every row as CSV (UTF-8, header first) to a path or an open text file; return the row count."""
        rows = self.rows()
        if isinstance(out, (str, Path)):
            path = Path(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as fh:
                _write(fh, rows)
        else:
            _write(out, rows)
        return len(rows)


def _write(fh: IO[str], rows: Iterable[dict[str, object]]) -> None:
    writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "quote_ids": " ".join(row["quote_ids"])})  # type: ignore[arg-type]
