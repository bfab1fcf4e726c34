"""Command line: ``assistant ingest | ask | sources | serve | evaluate | feedback export``.

A thin layer over the Python API: parse arguments, call the service, print the result.
Errors from the AssistantError tree are printed as one readable line (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from .config import ENV_HELP, LOCALES, Settings, apply_offline_env
from .errors import AssistantError, InputError

log = logging.getLogger("assistant")



def _print_sources(rows: list, as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(asdict(row), ensure_ascii=False))
        return
    for row in rows:
        dates = f"fetched {row.fetched}, changed {row.changed}" if row.fetched else f"changed {row.changed}"
        print(f"{row.source}\n    {row.title} · {row.language} · {row.chunks} chunks · {dates}")
    print(f"{len(rows)} documents, {sum(r.chunks for r in rows)} chunks")


def _epilog() -> str:
    lines = ["configuration (environment variables):"]
    lines += [f"  ASSISTANT_{name.upper():<28} {text}" for name, text in ENV_HELP.items()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Child-protection guidance assistant of the Council of the Baltic Sea States: "
                    "answers by quoting its documents word for word, with sources.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (never message text unless ASSISTANT_DEBUG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")  # none given: the help

    p = sub.add_parser("ingest", help="sync every source into the index (only what changed is embedded)",
                       description="Sync the sources (corpus/sources.yaml: folders, web pages, sitemaps; without it the "
                                   "corpus folder), or read the given files/folders: chunk, embed and store. Safe to re-run: "
                                   "unchanged files and pages cost nothing; an interrupted run is completed.")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="files or folders only (default: every source of ASSISTANT_CORPUS_DIR, the shipped corpus/)")
    p.add_argument("--url", action="append", default=[], metavar="URL",
                   help="also fetch this web page (repeatable; kept and re-checked by later syncs until it is gone)")
    p.add_argument("--sitemap", action="append", default=[], metavar="URL",
                   help="also fetch every page of this sitemap (repeatable; kept like --url)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again (e.g. after changing the embedder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("ask", help="ask one question and print the quoted answer",
                       description="Ask a question; the answer quotes the documents verbatim with their sources.")
    p.add_argument("question", help="the question, in any of: " + " ".join(LOCALES))
    p.add_argument("--locale", default=None, choices=LOCALES,
                   help="interface language when the question's language is unclear (default: ASSISTANT_DEFAULT_LOCALE, en)")
    p.add_argument("--country", default=None,
                   help="country code for the helpline in a safety notice, e.g. SE (default: from the question's language)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (quotes with document id, offsets, score, citation)")

    p = sub.add_parser("sources", help="list every document in the index: source, title, language, chunks, dates",
                       description="What the index holds, one document per line (web pages with when they were last "
                                   "fetched and changed).")
    p.add_argument("--json", action="store_true", help="print one JSON object per document, for scripts")

    p = sub.add_parser("serve", help="start the web chat (ingests the corpus on first start)",
                       description="Start the Gradio web chat on ASSISTANT_HOST:ASSISTANT_PORT.")
    p.add_argument("--host", default=None, help="address to listen on (default ASSISTANT_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default ASSISTANT_PORT, 7860)")

    p = sub.add_parser("evaluate", help="run question sets and write results.json, report.md, report.html",
                       description="Evaluate one or more configurations on question sets; optionally gate on an earlier run.")
    p.add_argument("sets", nargs="*", type=Path, metavar="SET", help="question set files (default: evaluation/sets/*.jsonl)")
    p.add_argument("--config", action="append", dest="configs", metavar="NAME",
                   help="hybrid, dense, bm25, minilm or all (repeatable; default: hybrid)")
    p.add_argument("--out", type=Path, default=Path("evaluation/reports/latest"),
                   help="output folder (default: %(default)s)")
    p.add_argument("--compare", type=Path, default=None, metavar="OLD_RESULTS",
                   help="results.json of an earlier run to compare with (default: no comparison)")
    p.add_argument("--metric", default="recall@5", help="metric that must not drop, with --compare (default: %(default)s)")
    p.add_argument("--max-drop", type=float, default=0.02,
                   help="largest allowed drop of --metric; exit 1 beyond it (default: %(default)s)")
    p.add_argument("--external", action="store_true", help="run the public cross-lingual benchmarks in ../shared/eval-data")
    p.add_argument("--limit", type=int, default=None,
                   help="at most this many questions per set, for quick checks (default: all)")

    p = sub.add_parser("feedback", help="work with the feedback users gave in the web chat",
                       description="The ratings and comments given in the web chat, kept in "
                                   "ASSISTANT_DATA_DIR/feedback.sqlite3 for ASSISTANT_FEEDBACK_DAYS days "
                                   "(questions masked, never one that raised the safety notice).")
    fsub = p.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    e = fsub.add_parser("export", help="write all feedback as CSV",
                        description="Write the feedback table as CSV (UTF-8, header first): id, day, locale, "
                                    "rating, question, quote_ids, comment.")
    e.add_argument("--out", type=Path, default=None, help="CSV file (default: standard output)")
    return parser


def _print_answer(answer, as_json: bool) -> None:  # noqa: ANN001 - Answer
    if not as_json:
        print(answer.text)
        return
    payload = {
        "question": answer.question, "locale": answer.locale, "detected_language": answer.detected_language,
        "abstained": answer.abstained, "relevance": answer.relevance, "text": answer.text,
        "notice": asdict(answer.notice) if answer.notice else None,
        "quotes": [asdict(q) for q in answer.quotes],
    }
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def run(args: argparse.Namespace, settings: Settings) -> int:
    from .service import build_assistant

    if args.command == "feedback":
        from .feedback import FeedbackStore

        store = FeedbackStore.for_settings(settings)
        if args.out is not None and args.out.is_dir():
            raise InputError("{path} is a folder; give a file name, e.g. {path}/feedback.csv", path=args.out)
        count = store.export_csv(args.out if args.out else sys.stdout)
        print(f"exported {count} feedback rows" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
        return 0
    if args.command == "evaluate":
        from .evaluation.harness import evaluate_command

        return evaluate_command(settings, sets=args.sets, configs=args.configs, out=args.out, compare_path=args.compare,
                                metric=args.metric, max_drop=args.max_drop, external=args.external, limit=args.limit)

    assistant = build_assistant(settings)
    if args.command == "ingest":
        if args.paths and (args.url or args.sitemap):
            raise InputError("Give files and folders, or --url/--sitemap, not both in one run.")
        synced = None if args.paths else assistant.sync(args.url, args.sitemap, progress=not args.quiet)
        report = assistant.ingest(args.paths or None, rebuild=args.rebuild, progress=not args.quiet)
        if synced is not None:
            print(synced.summary())
        print(report.summary())
        return 1 if report.failed and not report.documents else 0
    if args.command == "sources":
        _print_sources(assistant.sources(), args.json)
        return 0
    if args.command == "ask":
        assistant.ensure_index(progress=sys.stderr.isatty())
        locale = args.locale or settings.default_locale
        _print_answer(assistant.ask(args.question, locale=locale, country=args.country), args.json)
        return 0
    if args.command == "serve":
        from .web import serve

        report = assistant.ensure_index(progress=True)
        if report is not None:
            print(report.summary(), flush=True)
        serve(assistant, host=args.host or settings.host, port=args.port or settings.port)
        return 0
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    apply_offline_env()  # no telemetry, no model hub: before any library is imported
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `assistant` alone: what it can do, not an error
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args, Settings.from_env())
    except AssistantError as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except OSError as exc:  # a path that cannot be written or read: say which and why
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}; check the path and its permissions", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback for the person at the terminal; -v logs it
        log.info("unexpected failure", exc_info=True)  # shown with -v
        print(f"error: unexpected {type(exc).__name__}: {exc}. Run again with -v for details; "
              "if it persists, report it with that output.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
