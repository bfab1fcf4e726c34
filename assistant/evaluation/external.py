"""Public cross-lingual retrieval benchmarks (XQuAD-R, SIB-200), each with a BM25 baseline.

The data stays in ``../shared/eval-data/`` as published; nothing here needs Chroma: the
embedder vectors are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import metrics as m
from ..config import Settings

XQUAD_LANGUAGES = ("de", "ru")
# Region languages of SIB-200, each matched against English (folder names as published).
SIB_LANGUAGES = {
    "da": "dan_Latn", "de": "deu_Latn", "et": "est_Latn", "fi": "fin_Latn", "is": "isl_Latn", "lt": "lit_Latn",
    "lv": "lvs_Latn", "nb": "nob_Latn", "pl": "pol_Latn", "sv": "swe_Latn", "uk": "ukr_Cyrl",
}
K = 10
BATCH = 16


def _embed(fn: Callable[[list[str]], np.ndarray], texts: Sequence[str], desc: str, progress: bool) -> np.ndarray:
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress, file=sys.stderr) as bar:
        for i in range(0, len(texts), BATCH):
            batch = list(texts[i:i + BATCH])
            parts.append(np.asarray(fn(batch), dtype=np.float32))
            bar.update(len(batch))
    return np.vstack(parts) if parts else np.zeros((0, 1), dtype=np.float32)


def dense_ranks(queries: np.ndarray, passages: np.ndarray, k: int = K) -> np.ndarray:
    """Indices of the top ``k`` passages per query by dot product (best first)."""
    scores = queries @ passages.T
    k = min(k, passages.shape[0])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def bm25_ranks(corpus: Sequence[str], queries: Sequence[str], k: int = K) -> np.ndarray:
    """Top ``k`` passages per query by BM25 (English stemmer and stop words on both sides).

    Results with a score of 0 (no shared term) are marked -1: their order is arbitrary and
    must not count as a lucky hit.
    """
    import bm25s
    import Stemmer

    from ..lexical import quiet_bm25s

    quiet_bm25s()

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(list(corpus), stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    tokens = bm25s.tokenize(list(queries), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
    docs, scores = retriever.retrieve(tokens, k=min(k, len(corpus)), show_progress=False)
    return np.where(scores > 0, docs, -1)


def score_ranks(ranks: np.ndarray, gold: Sequence[int]) -> dict[str, float | int]:
    """Recall@1/5/10 and MRR@10 of ranked passage indices against each query's gold index."""
    relevance = [[int(i) == g for i in row] for row, g in zip(ranks, gold)]
    out: dict[str, float | int] = {"n": len(relevance)}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = m.mean(m.recall_at_k(r, k) for r in relevance) or 0.0
    out["mrr@10"] = m.mean(m.reciprocal_rank(r, 10) for r in relevance) or 0.0
    return out


def _paragraphs(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [p for article in data["data"] for p in article["paragraphs"]]


def xquad_r(folder: Path, embedders: dict[str, Any], *, limit: int | None, progress: bool) -> list[dict[str, Any]]:
    """English paragraphs as passages; German and Russian questions; gold by question id.

    ``limit`` keeps the first ``limit`` paragraphs and at most ``limit`` questions on them.
    """
    english = _paragraphs(folder / "en.json")[:limit] if limit else _paragraphs(folder / "en.json")
    contexts = [p["context"] for p in english]
    gold_of = {qa["id"]: i for i, p in enumerate(english) for qa in p["qas"]}
    asked: dict[str, tuple[list[str], list[int]]] = {}
    for lang in XQUAD_LANGUAGES:
        pairs = [(qa["question"], gold_of[qa["id"]]) for p in _paragraphs(folder / f"{lang}.json")
                 for qa in p["qas"] if qa["id"] in gold_of]
        pairs = pairs[:limit] if limit else pairs
        asked[lang] = ([q for q, _ in pairs], [g for _, g in pairs])
    rows = []
    for name, embedder in embedders.items():
        passages = _embed(embedder.embed_passages, contexts, f"XQuAD-R paragraphs ({name})", progress)
        for lang, (questions, gold) in asked.items():
            queries = _embed(embedder.embed_queries, questions, f"XQuAD-R {lang} ({name})", progress)
            rows.append({"benchmark": "XQuAD-R", "language": lang, "model": name,
                         **score_ranks(dense_ranks(queries, passages), gold)})
    for lang, (questions, gold) in asked.items():
        rows.append({"benchmark": "XQuAD-R", "language": lang, "model": "bm25",
                     **score_ranks(bm25_ranks(contexts, questions), gold)})
    return rows


def _sib_sentences(folder: Path) -> dict[str, str]:
    sentences: dict[str, str] = {}
    for split in ("train", "dev", "test"):
        with (folder / f"{split}.tsv").open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                sentences[row["index_id"]] = row["text"]
    return sentences


def sib_200(folder: Path, embedders: dict[str, Any], *, limit: int | None, progress: bool) -> list[dict[str, Any]]:
    """Each region language's sentences against the English ones (same ``index_id`` is gold).

    Both sides are embedded as queries: e5's convention for symmetric tasks. ``limit``
    keeps the first ``limit`` sentence ids.
    """
    english = _sib_sentences(folder / "eng_Latn")
    ids = sorted(english, key=int)[:limit] if limit else sorted(english, key=int)
    en_texts = [english[i] for i in ids]
    position = {i: n for n, i in enumerate(ids)}
    others = {lang: _sib_sentences(folder / sub) for lang, sub in SIB_LANGUAGES.items() if (folder / sub).is_dir()}
    rows = []
    for name, embedder in embedders.items():
        targets = _embed(embedder.embed_queries, en_texts, f"SIB-200 en ({name})", progress)
        for lang, sentences in others.items():
            keep = [i for i in ids if i in sentences]
            queries = _embed(embedder.embed_queries, [sentences[i] for i in keep], f"SIB-200 {lang} ({name})", progress)
            gold = [position[i] for i in keep]
            rows.append({"benchmark": "SIB-200", "language": lang, "model": name,
                         **score_ranks(dense_ranks(queries, targets), gold)})
    for lang, sentences in others.items():
        keep = [i for i in ids if i in sentences]
        rows.append({"benchmark": "SIB-200", "language": lang, "model": "bm25",
                     **score_ranks(bm25_ranks(en_texts, [sentences[i] for i in keep]), [position[i] for i in keep])})
    return rows


def run_external(eval_dir: Path, out_dir: Path, *, settings: Settings, limit: int | None = None,
                 embedders: Sequence[str] | None = None, progress: bool = True) -> dict[str, Any] | None:
    """Run XQuAD-R and SIB-200 with each embedder (default: the configured one) and BM25.

    Writes results.json, report.md and report.html to ``out_dir``. Returns None, with a
    message on stderr, when ``eval_dir`` is absent.
    """
    from . import report
    from ..embeddings import build_embedder

    eval_dir = Path(eval_dir)
    if not eval_dir.is_dir():
        print(f"External benchmarks skipped: {eval_dir} does not exist. Put the public data sets there "
              "(see ../shared/eval-data/README.md) to run them.", file=sys.stderr)
        return None
    models = {name: build_embedder(settings.replace(embedder=name)) for name in (embedders or [settings.embedder])}
    rows: list[dict[str, Any]] = []
    for sub, runner in (("xquad-r", xquad_r), ("sib-200", sib_200)):
        if (eval_dir / sub).is_dir():
            rows += runner(eval_dir / sub, models, limit=limit, progress=progress)
        else:
            print(f"External benchmark skipped: {eval_dir / sub} does not exist.", file=sys.stderr)
    results = {
        "format": "cbss-external-results", "version": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eval_dir": str(eval_dir), "limit": limit, "models": list(models), "rows": rows,
    }
    # The target is for the default model; the others are shown for comparison only.
    results["targets"] = [
        {"name": f"XQuAD-R Recall@5 ({r['language']}, {r['model']})", "measured": r["recall@5"], "op": ">=",
         "target": 0.96, "status": "MET" if r["recall@5"] >= 0.96 else "MISSED"}
        for r in rows if r["benchmark"] == "XQuAD-R" and r["model"] == settings.embedder
    ]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.md").write_text(report.external_markdown(results), encoding="utf-8")
    (out_dir / "report.html").write_text(report.external_html(results), encoding="utf-8")
    return results
