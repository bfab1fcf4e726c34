"""FeedbackStore: ratings reach SQLite with only what the issue allows, export as CSV, survive a corrupt file."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import time

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
    versioned = Quote(**{**quote.__dict__, "doc_sha256": "0123456789abcdef" * 4})
    assert quote_id(versioned) == "guides/barnahus.md@0123456789ab#12-20", "the id names the document version"


def test_questions_and_comments_are_stored_masked(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("Mein Name ist Anna, anna.berg@example.de, 0171 2345678: was ist Barnahus?", [], "de", "up",
              "ruf mich an: +49 171 2345678, Personnummer 19121212-1212")
    row = store.rows()[0]
    assert row["question"] == "Mein Name ist Anna, [email], [phone]: was ist Barnahus?"
    assert "2345678" not in row["comment"] and "1212" not in row["comment"]


def test_a_question_that_raised_the_safety_notice_is_never_kept(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("mein Stiefvater Jonas schlägt mich", ["a.md#0-10"], "de", "down", notice=True)
    row = store.rows()[0]
    assert row["question"] == "" and row["quote_ids"] == ["a.md#0-10"] and row["rating"] == "down"


def test_questions_can_be_left_out_entirely(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3", questions="none")
    store.add("What is Barnahus?", [], "en", "up", "clear")
    assert [(r["question"], r["comment"]) for r in store.rows()] == [("", "clear")]


def test_rows_older_than_the_retention_are_deleted(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path, keep_days=30)
    store.add("new", [], "en", "up")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO feedback (day, locale, rating, question, quote_ids) VALUES ('2001-01-01', 'en', 'up', 'old', '')")
    assert [r["question"] for r in store.rows()] == ["new"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1, "deleted, not only hidden"


def test_rows_kept_by_an_older_version_are_masked_when_the_file_is_opened(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:  # the table as the previous version wrote it, with a raw question
        conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, locale TEXT NOT NULL, "
                     "rating TEXT NOT NULL, question TEXT NOT NULL, quote_ids TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '')")
        conn.execute("INSERT INTO feedback (day, locale, rating, question, quote_ids, comment) VALUES "
                     "(date('now'), 'sv', 'up', 'ring mig på 070-123 45 67', '', 'mejla ola@example.se')")
    row = FeedbackStore(path).rows()[0]
    assert (row["question"], row["comment"]) == ("ring mig på [phone]", "mejla [email]")


def _set_aside(folder):
    return sorted(folder.glob("feedback.sqlite3.corrupt-*"))


def test_missing_folder_and_file_are_created(tmp_path):
    path = tmp_path / "new" / "data" / "feedback.sqlite3"
    store = FeedbackStore(path)
    assert store.rows() == []  # reading alone creates nothing
    store.add("q", [], "en", "up")
    assert path.is_file() and [r["question"] for r in store.rows()] == ["q"]
    assert _set_aside(path.parent) == []


def test_garbage_file_is_moved_aside_and_a_fresh_database_works(tmp_path, caplog):
    path = tmp_path / "feedback.sqlite3"
    garbage = b"this is not a database\n" * 100
    path.write_bytes(garbage)

    store = FeedbackStore(path)
    with caplog.at_level("WARNING", logger="assistant.feedback"):
        store.add("Czym jest Barnahus?", ["a.md#0-10"], "pl", "down", "Nie pomogło.")

    (aside,) = _set_aside(tmp_path)
    assert aside.read_bytes() == garbage  # moved, not lost or rewritten
    assert aside.name.endswith("Z")  # a UTC timestamp
    rows = store.rows()
    assert [(r["question"], r["quote_ids"], r["rating"], r["comment"]) for r in rows] == [
        ("Czym jest Barnahus?", ["a.md#0-10"], "down", "Nie pomogło.")
    ]
    (record,) = [r for r in caplog.records if r.name == "assistant.feedback"]
    assert record.levelname == "WARNING"
    message = record.getMessage()
    assert str(path) in message and str(aside) in message
    assert "file is not a database" in message and "nothing needs doing" in message


def test_truncated_database_is_moved_aside_without_logging_its_contents(tmp_path, caplog):
    path = tmp_path / "feedback.sqlite3"
    old = FeedbackStore(path)
    for i in range(200):
        old.add(f"secret question {i} " + "x" * 200, [], "en", "up", "private comment")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    store = FeedbackStore(path)
    with caplog.at_level("WARNING", logger="assistant.feedback"):
        assert store.rows() == []
    assert len(_set_aside(tmp_path)) == 1
    assert "malformed" in caplog.text
    assert "secret question" not in caplog.text and "private comment" not in caplog.text
    store.add("q", [], "en", "up")
    assert [r["question"] for r in store.rows()] == ["q"]


def test_healthy_database_is_kept(tmp_path, caplog):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).add("q1", [], "en", "up")
    with caplog.at_level("WARNING", logger="assistant.feedback"):
        assert [r["question"] for r in FeedbackStore(path).rows()] == ["q1"]
    assert _set_aside(tmp_path) == [] and caplog.records == []


def test_health_check_runs_once_per_store_across_threads(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    calls = []
    check = store._set_aside_if_corrupt

    def counting_check() -> None:
        calls.append(1)
        time.sleep(0.05)  # widen the window in which a second thread could slip in
        check()

    monkeypatch.setattr(store, "_set_aside_if_corrupt", counting_check)
    threads = [threading.Thread(target=store.add, args=(f"q{i}", [], "en", "up")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.rows()  # later calls skip the check too
    assert len(calls) == 1
    assert len(store.rows()) == 8
