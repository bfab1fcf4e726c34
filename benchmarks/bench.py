"""Speed of the assistant on this machine: prints a table (median of several runs, ratio to a baseline).

    make bench            # or: .venv/bin/python benchmarks/bench.py [--rounds N]

Baselines, measured in the same process: for ingest, the unchanged re-ingest; for questions,
dense retrieval alone (one embedding + one Chroma query) against the full `ask` (hybrid
retrieval, sentence choice, language detection, rendering); for safeguarding, what detection
adds once the message is embedded (rules + exemplar bank) against the embedding itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import Settings  # noqa: E402
from assistant.service import build_assistant  # noqa: E402

QUESTIONS = [
    ("When did Sweden ban corporal punishment?", "en"),
    ("What are the Barnahus quality standards?", "en"),
    ("Wann wurde das erste Barnahus gegründet?", "de"),
    ("Jaki jest numer telefonu zaufania dla dzieci?", "pl"),
    ("Mikä on Euroopan Barnahus-verkosto?", "fi"),
    ("Kas yra Vaikų linija?", "lt"),
    ("Що таке Конвенція ООН про права дитини?", "uk"),
]
DANGER = [("my dad hits me and im scared to go home", "en"), ("tata mnie bije", "pl"), ("ma tahan surra", "et")]


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="runs per measurement (median reported)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = []
        for i in range(max(1, args.rounds // 2)):
            a = build_assistant(Settings(data_dir=Path(tmp) / f"d{i}"))
            fresh.append(timed(a.ingest))
        report = a.ingest()
        again = [timed(a.ingest) for _ in range(args.rounds)]
        rows.append(("ingest, empty index", statistics.median(fresh), statistics.median(again)))
        rows.append(("ingest, nothing changed", statistics.median(again), statistics.median(again)))
        a.ask("warm up", locale="en")
        dense, ask = [], []
        for _ in range(args.rounds):
            for q, loc in QUESTIONS:
                dense.append(timed(lambda: a.store.nearest(a.embedder.embed_queries([q])[0], 8)))
                ask.append(timed(lambda: a.ask(q, locale=loc)))
        rows.append(("question: dense retrieval only", statistics.median(dense), statistics.median(dense)))
        rows.append(("question: full ask (hybrid)", statistics.median(ask), statistics.median(dense)))
        embed, detect = [], []
        for _ in range(args.rounds):
            for q, _loc in QUESTIONS + DANGER:
                embed.append(timed(lambda: a.embedder.embed_queries([q])))
                vector = a.embedder.embed_queries([q])[0]
                detect.append(timed(lambda: a.safeguarding.assess(q, vector)))
        rows.append(("message: query embedding", statistics.median(embed), statistics.median(embed)))
        rows.append(("message: danger detection", statistics.median(detect), statistics.median(embed)))
    print(f"corpus: {report.documents} documents, {report.chunks} chunks; {args.rounds} rounds, {len(QUESTIONS)} questions\n")
    print(f"| {'measurement':<32} | {'median s':>9} | {'baseline s':>10} | {'ratio':>6} |")
    print(f"|{'-' * 34}|{'-' * 11}|{'-' * 12}|{'-' * 8}|")
    for name, value, base in rows:
        print(f"| {name:<32} | {value:9.4f} | {base:10.4f} | {value / base:6.2f} |")


if __name__ == "__main__":
    main()
