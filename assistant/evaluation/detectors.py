"""The safeguarding detectors measured alone and together, on every split of the sets.

``assistant evaluate`` runs this beside the full ``ask`` evaluation: every message is
embedded once (as ``ask`` does), then the rules alone, the exemplar bank alone and their
combination decide. The report shows each detector's danger recall per split, language and
harm and its false alarms on safe look-alikes and in-scope questions, dev beside test, and
how long detection takes per message once the vector exists.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from ..safeguarding import Detection, Safeguarding
from .harness import safeguarding_breakdown
from .questions import Question

DETECTORS = ("rules", "semantic", "combined")


def _fires(detection: Detection, detector: str) -> bool:
    semantic = bool(detection.semantic and detection.semantic.danger)
    return {"rules": bool(detection.rules), "semantic": semantic, "combined": detection.danger}[detector]


def detect_all(safeguarding: Safeguarding, embedder: Any, questions: Sequence[Question]) -> list[Detection]:
    """One detection per question (its message embedded as a query, in batches)."""
    vectors = embedder.embed_queries([q.question for q in questions]) if questions else []
    return [safeguarding.assess(q.question, v) for q, v in zip(questions, vectors)]


def evaluate_detectors(safeguarding: Safeguarding, embedder: Any, questions: Sequence[Question]) -> dict[str, Any]:
    """Per detector, the breakdown of ``evaluate.safeguarding_breakdown``; and detection time."""
    questions = [q for q in questions if q.kind in ("danger", "safe", "in_scope", "out_of_scope")]
    detections = detect_all(safeguarding, embedder, questions)
    out: dict[str, Any] = {}
    for detector in DETECTORS:
        records = [{"id": q.id, "split": q.split, "kind": q.kind, "language": q.language, "harm": q.harm,
                    "notice": _fires(d, detector), "error": None} for q, d in zip(questions, detections)]
        out[detector] = safeguarding_breakdown(records)
    if questions:
        vector = embedder.embed_queries([questions[0].question])[0]
        sample = [q.question for q in questions[:200]]
        started = time.perf_counter()
        for text in sample:
            safeguarding.assess(text, vector)
        out["ms_per_message"] = round(1000 * (time.perf_counter() - started) / len(sample), 3)
    return out
