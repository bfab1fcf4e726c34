"""Choose the answer constants of ``assistant/calibration.py`` on the DEV split only.

    python evaluation/tune.py [--sets evaluation/sets/*.jsonl] [--top 10]

Retrieves every dev question once, then re-chooses the quotes for each combination of the
sentence-choice constants and scores it: fact hit, expected passage quoted, first quote in
the asker's language (where a document in that language holds the passage), quotes per
answer. Then the abstention threshold: recall on dev out-of-scope questions against false
abstentions on dev in-scope ones. Test splits are refused: they are never tuned on.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
from dataclasses import astuple, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer import choose_quotes  # noqa: E402
from assistant.calibration import CALIBRATION  # noqa: E402
from assistant.config import Settings, apply_offline_env  # noqa: E402
from assistant.evaluation.harness import document_language  # noqa: E402
from assistant.evaluation.questions import default_sets, load_question_sets  # noqa: E402
from assistant.evaluation.metrics import contains_passage, fact_hit_rate, mean  # noqa: E402
from assistant.service import build_assistant  # noqa: E402
from assistant.scope import Scope  # noqa: E402

GRID = {
    "sentence_lang_alpha": (0.0, 0.5, 1.0, 1.5),
    "type_bonus": (0.03, 0.045, 0.06),
    "quote_margin": (0.045, 0.06),  # wider margins only add padding quotes (more facts by luck, worse answers)
    "language_bonus": (0.0, 0.012),
    "other_language_penalty": (0.015, 0.03),
    "term_bonus": (0.01, 0.02),
    "overlap_bonus": (0.0, 0.02, 0.04),
}


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Weights (bias last) of L2-penalised logistic regression by Newton's method."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = l2 * np.eye(xb.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        gradient = xb.T @ (p - y) + penalty @ w
        hessian = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty
        w -= np.linalg.solve(hessian, gradient)
    return w


def _fit(x: np.ndarray, y: np.ndarray, allowed: int) -> tuple[np.ndarray, float]:
    """Raw-scale weights and bias, the bias moved so at most ``allowed`` positives score < 0."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    w = _logistic((x - mu) / sd, y)
    weights = w[:-1] / sd
    bias = w[-1] - float(mu @ weights)
    scores = x[y == 1] @ weights + bias
    allowed = max(0, min(allowed, len(scores) - 1))
    cut = np.sort(scores)[allowed]  # the (allowed+1)-th lowest in-scope score stays answered
    return weights, bias - cut


def fit_scope(rows, min_relevance: float, max_false: float) -> None:  # noqa: ANN001
    """Fit on all dev questions above the relevance floor; report a 5-fold estimate beside it."""
    feats = np.array([astuple(f) for *_, f in rows])  # relevance, spread, nearness, lift
    y = np.array([1.0 if r[0].kind == "in_scope" else 0.0 for r in rows])
    floor = feats[:, 0] >= min_relevance
    rng = np.random.default_rng(0)
    folds = rng.integers(0, 5, len(rows))
    abstain_cv = np.zeros(len(rows), dtype=bool)
    def allowed(mask: np.ndarray) -> int:  # false abstentions left once the floor has taken its share
        positives = mask & (y == 1)
        return int(max_false * positives.sum()) - int((positives & ~floor).sum())

    for k in range(5):
        train = (folds != k) & floor
        weights, bias = _fit(feats[train], y[train], allowed(folds != k))
        abstain_cv[folds == k] = (feats[folds == k] @ weights + bias < 0) | ~floor[folds == k]
    weights, bias = _fit(feats[floor], y[floor], allowed(np.ones(len(y), dtype=bool)))
    abstain = (feats @ weights + bias < 0) | ~floor
    current = np.array([Scope(None).score(f) for *_, f in rows])  # the read-out of calibration.py
    print("| | abstention recall | false abstentions |")
    print("|---|---|---|")
    for name, flags in (("relevance floor only", ~floor), ("current read-out (calibration.py)", (current < 0) | ~floor),
                        ("read-out, 5-fold on dev", abstain_cv), ("read-out, fitted on all dev", abstain)):
        print(f"| {name} | {flags[y == 0].mean():.3f} | {flags[y == 1].mean():.3f} |")
    print(f"scope_bias={bias:.3f}, scope_relevance={weights[0]:.3f}, scope_spread={weights[1]:.3f}, "
          f"scope_nearness={weights[2]:.3f}, scope_lift={weights[3]:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="*", type=Path, default=None, help="question sets (default: every dev set)")
    parser.add_argument("--top", type=int, default=10, help="combinations shown (default 10)")
    parser.add_argument("--max-false", type=float, default=0.02,
                        help="false abstentions allowed on dev when placing the read-out's cut (default 0.02)")
    parser.add_argument("--scope-only", action="store_true", help="refit the abstention read-out only (skip the sentence grid)")
    args = parser.parse_args(argv)
    apply_offline_env()
    questions = [q for q in load_question_sets(args.sets or default_sets()) if not q.follow_up]
    if any(q.split == "test" for q in questions) and args.sets:
        parser.error("a test split was given: test questions are never tuned on")
    questions = [q for q in questions if q.split == "dev" and q.kind in ("in_scope", "out_of_scope")]
    settings = Settings.from_env()
    assistant = build_assistant(settings)
    assistant.ensure_index(progress=True)

    rows = []  # (question, detected language, retrieval, expected document in its language, scope features)
    for q in questions:
        language = assistant.detect_language(q.question, fallback=q.language)
        vector = assistant.embedder.embed_queries([q.question])[0]
        retrieval = assistant._retrieve(q.question, language, (), None, vector)
        # As `evaluate` counts it: an expected document is in the asker's language.
        own = any(document_language(assistant, doc) == q.language for doc in q.answering_docs)
        rows.append((q, language, retrieval, bool(own), assistant.scope.features(retrieval, vector)))
    in_scope = [r for r in rows if r[0].kind == "in_scope"]
    print(f"dev questions: {len(in_scope)} in scope, {len(rows) - len(in_scope)} out of scope", file=sys.stderr)

    def score(calibration) -> dict[str, float]:
        facts, passages, first_own, n_quotes = [], [], [], []
        for q, language, retrieval, own, _ in in_scope:
            if retrieval.relevance < settings.min_relevance:
                quotes = []
            else:
                quotes = choose_quotes(retrieval, settings, user_language=language, calibration=calibration)
            quoted = "\n".join(x.text for x in quotes)
            facts.append(fact_hit_rate(q.fact_alternatives, quoted))
            if q.expected_passage:
                passages.append(1.0 if any(contains_passage(quoted, p) for p in
                                           (q.expected_passage, *(p for _, p in q.also_answered_by))) else 0.0)
            if own and quotes:
                first_own.append(1.0 if quotes[0].language == q.language else 0.0)
            n_quotes.append(len(quotes))
        return {"facts": mean(facts), "passage": mean(passages), "first_own": mean(first_own), "quotes": mean(n_quotes)}

    if args.scope_only:
        fit_scope(rows, settings.min_relevance, args.max_false)
        return 0
    results = []
    names = list(GRID)
    for values in itertools.product(*(GRID[n] for n in names)):
        calibration = replace(CALIBRATION, **dict(zip(names, values)))
        results.append((dict(zip(names, values)), score(calibration)))
    current = score(CALIBRATION)
    results.sort(key=lambda r: (r[1]["facts"] + r[1]["passage"] + 0.5 * (r[1]["first_own"] or 0)), reverse=True)
    header = names + ["facts", "passage", "first_own", "quotes"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for params, s in [(dict((n, getattr(CALIBRATION, n)) for n in names), current)] + results[:args.top]:
        print("| " + " | ".join(str(params[n]) for n in names) + " | " +
              " | ".join(f"{s[k]:.3f}" for k in ("facts", "passage", "first_own", "quotes")) + " |")
    print("(first row: the current calibration)")

    print("\nAbstention: logistic read-out of (relevance, spread, nearness, lift), fitted on dev:")
    fit_scope(rows, settings.min_relevance, args.max_false)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
