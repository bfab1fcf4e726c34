"""Cost of a question as the index grows: p50/p95 of a full `ask`, split by stage, start-up and RSS.

    make bench                                   # bench.py, then this with the default sizes
    .venv/bin/python benchmarks/scale.py         # 1k, 10k and 100k chunks
    .venv/bin/python benchmarks/scale.py --chunks 100000 --json

The index is the shipped corpus (real e5 vectors) padded with synthetic chunks up to each size:
their text is real corpus sentences shuffled within one language (so BM25 sees a real
vocabulary), their vectors random unit vectors; they hold no sentence vectors (the 1k-100k
axis measures chunk reads, which is what grows). Each size is measured in a fresh process
that opens the index as `serve` does (start-up = imports + open + warm), then asks the
questions (the first five of each language's dev set), each once. The baseline ratio is
against the smallest size, measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

STAGES = ("embedding", "safeguarding", "retrieval", "sentences", "rendering")
_PAD_BATCH = 2000


def questions(count: int) -> list[str]:
    """The first questions of each language's in-scope dev set, round-robin, ``count`` in all."""
    pools = []
    for path in sorted((ROOT / "evaluation" / "sets").glob("in-scope-??.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        pools.append([r["question"] for r in rows if "question" in r][:max(1, count // 12 + 1)])
    out = [q for group in zip(*pools) for q in group]
    return out[:count]


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- one size, in its own process --------------------------------------------------------
def measure(data_dir: Path, count: int) -> dict:
    from assistant.config import Settings
    from assistant.service import build_assistant

    assistant = build_assistant(Settings(data_dir=data_dir))
    assistant.ensure_index()  # opens the index and warms every part, as `serve` does
    started = time.perf_counter() - START
    totals, stages = [], {s: [] for s in STAGES}
    for question in questions(count):
        clock = time.perf_counter()
        answer = assistant.ask(question)
        totals.append(time.perf_counter() - clock)
        for stage in STAGES:
            stages[stage].append(answer.timings.get(stage, 0.0))
    ms = 1000.0
    return {"chunks": assistant.store.count(), "questions": len(totals), "startup_s": round(started, 2),
            "ask_p50_ms": round(statistics.median(totals) * ms, 1), "ask_p95_ms": round(percentile(totals, 0.95) * ms, 1),
            **{f"{s}_p50_ms": round(statistics.median(v) * ms, 1) for s, v in stages.items()},
            "rss_mb": round(rss_mb(), 0), "peak_rss_mb": round(rss_mb("VmHWM"), 0)}


# -- building the sizes ------------------------------------------------------------------
def base_index(work: Path, base: Path | None) -> Path:
    """A data dir holding the shipped corpus: a copy of ``base``'s Chroma, or a fresh ingest."""
    from assistant.config import Settings
    from assistant.service import build_assistant

    target = work / "data"
    if base is not None:
        shutil.copytree(base / "chroma", target / "chroma")
    else:
        print("ingesting the shipped corpus once (real e5 vectors) ...", file=sys.stderr)
    build_assistant(Settings(data_dir=target)).ensure_index()  # brings a copied index in step too
    return target


def pad(data_dir: Path, chunks: int, rng: random.Random) -> float:
    """Add synthetic chunks until the index holds ``chunks``; the seconds the recount took."""
    import numpy as np

    from assistant.chunking import chunk_sentences
    from assistant.config import Settings
    from assistant.ingestion import recount
    from assistant.service import build_assistant
    from assistant.types import Chunk

    assistant = build_assistant(Settings(data_dir=data_dir))
    store = assistant.store
    have = store.count()
    by_language: dict[str, list[str]] = {}
    for page, _ in store.chunk_pages():
        for chunk in page:
            if not chunk.doc_id.startswith("synthetic/"):
                by_language.setdefault(chunk.language, []).extend(
                    chunk.text[s - chunk.start:e - chunk.start] for s, e in chunk_sentences(chunk))
    languages = sorted(by_language)
    gen = np.random.default_rng(rng.randrange(2**32))
    for first in range(have, chunks, _PAD_BATCH):
        batch = []
        for n in range(first, min(chunks, first + _PAD_BATCH)):
            language = rng.choice(languages)
            text = " ".join(rng.sample(by_language[language], min(4, len(by_language[language]))))
            batch.append(Chunk(chunk_id=hashlib.sha256(f"synthetic {n}".encode()).hexdigest()[:32],
                               doc_id=f"synthetic/{n}.{language}", text=text, start=0, end=len(text),
                               title=f"Synthetic {n}", language=language, source_url=""))
        vectors = gen.standard_normal((len(batch), store.embedder.dimension)).astype(np.float32)
        store.add_chunks(batch, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        print(f"  padded to {first + len(batch)} chunks", file=sys.stderr, end="\r")
    clock = time.perf_counter()
    recount(store, assistant.lexical)
    return time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000, 100000],
                        help="index sizes to measure (default: 1000 10000 100000)")
    parser.add_argument("--questions", type=int, default=60, help="questions asked per size (default: 60)")
    parser.add_argument("--base", type=Path, default=None,
                        help="a data dir holding the shipped corpus to start from (default: ingest it afresh, ~2 min)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size instead of the table")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.questions)))
        return
    rng = random.Random(20261201)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = base_index(Path(tmp), args.base)
        for size in sorted(args.chunks):
            bm25_s = pad(data, size, rng)
            child = subprocess.run([sys.executable, __file__, "--measure", str(data), "--questions", str(args.questions)],
                                   capture_output=True, text=True, check=False)
            if child.returncode != 0:
                sys.exit(f"measuring {size} chunks failed:\n{child.stderr[-3000:]}")
            row = json.loads(child.stdout.strip().splitlines()[-1])
            row.update(bm25_build_s=round(bm25_s, 1),
                       bm25_mb=round(sum(f.stat().st_size for f in (data / "bm25").rglob("*") if f.is_file()) / 2**20, 1),
                       vectors="shipped corpus (e5) + synthetic (random unit vectors)")
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        print_table(rows)


def print_table(rows: list[dict]) -> None:
    base = rows[0]["ask_p50_ms"] or 1.0
    print("Index: shipped corpus (real e5 vectors) padded with synthetic chunks (random unit vectors).")
    print(f"{len(rows) and rows[0]['questions']} questions per size, each asked once; ratio = p50 against the smallest size.\n")
    head = ["chunks", "ask p50 ms", "ask p95 ms", "ratio", *[f"{s} p50" for s in STAGES],
            "start-up s", "RSS MB", "BM25 build s", "BM25 MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [f"{r['chunks']:,}", r["ask_p50_ms"], r["ask_p95_ms"], f"{r['ask_p50_ms'] / base:.2f}",
                 *[r[f"{s}_p50_ms"] for s in STAGES], r["startup_s"], int(r["rss_mb"]), r["bm25_build_s"], r["bm25_mb"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
