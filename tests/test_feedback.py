"""FeedbackStore: ratings reach SQLite with only what the issue allows, and export as CSV."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from assistant.errors import InputError
from assistant.feedback import MAX_COMMENT_CHARS, FeedbackStore, quote_id
from assistant.types import Citation, Quote


def test_add_stores_question_quote_ids_locale_rating_and_comment(tmp_path):
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    row_id = store.add("Czym jest Barnahus?", ["a.md#0-10", "b.md#5-9"], "pl", "up", "  Pomocne.  ")

    with sqlite3.connect(tmp_path / "data" / "feedback.sqlite3") as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(feedback)")]
        stored = conn.execute("SELECT * FROM feedback WHERE id = ?", (row_id,)).fetchone()
    # Nothing about the person beyond what the issue lists (no IP, session, agent, time of day).
    assert columns == ["id", "day", "locale", "rating", "question", "quote_ids", "comment"]
    record = dict(zip(columns, stored))
    assert record["question"] == "Czym jest Barnahus?"
    assert record["quote_ids"] == "a.md#0-10 b.md#5-9"
    assert (record["locale"], record["rating"], record["comment"]) == ("pl", "up", "Pomocne.")
    assert len(record["day"]) == 10  # a date, not a timestamp


def test_comment_is_capped_and_optional(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("q1", [], "en", "down", "x" * (MAX_COMMENT_CHARS + 500))
    store.add("q2", ["d.md#1-2"], "uk", "up")
    first, second = store.rows()
    assert first["comment"] == "x" * MAX_COMMENT_CHARS
    assert second["comment"] == "" and second["quote_ids"] == ["d.md#1-2"]


@pytest.mark.parametrize(
    ("locale", "rating"),
    [("en", "meh"), ("xx", "up"), ("en", "")],
)
def test_invalid_rating_or_locale_is_refused(tmp_path, locale, rating):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(InputError):
        store.add("q", [], locale, rating)
    assert store.rows() == []


def test_export_csv_to_path_and_file_object(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    assert store.export_csv(tmp_path / "empty.csv") == 0
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8").splitlines() == [
        "id,day,locale,rating,question,quote_ids,comment"
    ]

    store.add('Who, "exactly", runs Barnahus?', ["a.md#0-10"], "en", "up", "line one\nline two")
    store.add("Kas yra Barnahus?", ["b.md#3-40", "c.md#1-2"], "lt", "down")
    out = tmp_path / "reports" / "feedback.csv"
    assert store.export_csv(out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["question"] for r in rows] == ['Who, "exactly", runs Barnahus?', "Kas yra Barnahus?"]
    assert rows[0]["comment"] == "line one\nline two"
    assert rows[1]["quote_ids"] == "b.md#3-40 c.md#1-2"
    assert (rows[1]["locale"], rows[1]["rating"]) == ("lt", "down")

    buffer = io.StringIO()
    assert store.export_csv(buffer) == 2
    assert buffer.getvalue() == out.read_text(encoding="utf-8")


def test_quote_id_points_into_the_document_text():
    quote = Quote(
        text="Barnahus",
        doc_id="guides/barnahus.md",
        chunk_id="c1",
        start=12,
        end=20,
        language="en",
        score=0.9,
        citation=Citation(title="Barnahus", source_url="https://example.org"),
    )
    assert quote_id(quote) == "guides/barnahus.md#12-20"
