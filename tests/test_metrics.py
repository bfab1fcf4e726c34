"""The metric functions on hand-made rankings whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.evaluation import metrics as m

# Relevant at rank 3 of 10.
THIRD = [False, False, True] + [False] * 7
NONE = [False] * 10
TWICE = [False, True, False, True]


def test_first_relevant_rank():
    assert m.first_relevant_rank(THIRD) == 3
    assert m.first_relevant_rank(THIRD, k=2) is None
    assert m.first_relevant_rank(NONE) is None
    assert m.first_relevant_rank([]) is None


@pytest.mark.parametrize(("k", "expected"), [(1, 0.0), (2, 0.0), (3, 1.0), (5, 1.0), (10, 1.0)])
def test_recall_at_k(k, expected):
    assert m.recall_at_k(THIRD, k) == expected


def test_recall_of_empty_and_irrelevant_rankings_is_zero():
    assert m.recall_at_k([], 5) == 0.0
    assert m.recall_at_k(NONE, 10) == 0.0


def test_reciprocal_rank():
    assert m.reciprocal_rank(THIRD) == pytest.approx(1 / 3)
    assert m.reciprocal_rank([True]) == 1.0
    assert m.reciprocal_rank(TWICE) == 0.5  # only the first relevant counts
    assert m.reciprocal_rank(NONE) == 0.0
    # Beyond the cut-off counts as not found.
    assert m.reciprocal_rank([False] * 10 + [True], k=10) == 0.0


def test_mrr_over_a_set_of_rankings():
    rankings = [[True], THIRD, NONE, TWICE]  # 1, 1/3, 0, 1/2
    assert m.mean(m.reciprocal_rank(r) for r in rankings) == pytest.approx((1 + 1 / 3 + 0 + 0.5) / 4)


def test_ndcg_single_relevant_item():
    # One relevant item at rank 3: DCG = 1/log2(4) = 0.5, ideal = 1.
    assert m.ndcg_at_k(THIRD, 10) == pytest.approx(0.5)
    assert m.ndcg_at_k([True, False], 10) == 1.0
    assert m.ndcg_at_k(NONE, 10) == 0.0
    assert m.ndcg_at_k(THIRD, 2) == 0.0


def test_ndcg_two_relevant_items():
    # Ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3).
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert m.ndcg_at_k(TWICE, 10) == pytest.approx(dcg / ideal)
    # Told there are three relevant items in all, the ideal grows.
    ideal3 = ideal + 0.5
    assert m.ndcg_at_k(TWICE, 10, n_relevant=3) == pytest.approx(dcg / ideal3)


def test_ndcg_of_first_only_counts_one_passage_once():
    assert m.first_only(TWICE) == [False, True, False, False]
    assert m.ndcg_at_k(m.first_only(TWICE), 10) == pytest.approx(1 / math.log2(3))
    assert m.first_only(NONE) == NONE


def test_passage_match_normalises_white_space_only():
    chunk = "Barnahus (“Children’s Houses”) are set up\n  or piloted in 10 CBSS member states."
    assert m.contains_passage(chunk, "set up or piloted in 10")
    assert m.contains_passage(chunk, "Children’s Houses")
    assert not m.contains_passage(chunk, "children’s houses")  # an exact span: case matters
    assert not m.contains_passage(chunk, "Children's Houses")  # and so does the apostrophe
    assert not m.contains_passage(chunk, "   ")


def test_fact_hit_rate():
    quoted = "The helpline number is 116\u00a0111. Sweden banned it in 1979."
    assert m.fact_hit_rate(["1979", "116 111"], quoted) == 1.0
    assert m.fact_hit_rate(["1979", "2010"], quoted) == 0.5
    assert m.fact_hit_rate(["SWEDEN"], quoted) == 1.0  # facts match case-insensitively
    assert m.fact_hit_rate([], quoted) is None
    assert m.fact_hits(["1979", "1980"], quoted) == [True, False]
    # a fact given with its other forms counts when any of them is quoted
    assert m.fact_hits([("Article 19", "Artikel 19"), ("1980", "nineteen eighty")], "Artikel 19 says so.") == [True, False]


def test_quote_fidelity():
    doc = "First sentence. Second sentence."
    assert m.quote_is_faithful("Second sentence.", doc, 16, 32)
    assert not m.quote_is_faithful("Second  sentence.", doc, 16, 32)
    assert not m.quote_is_faithful("Second sentence.", doc, 15, 31)
    assert not m.quote_is_faithful("x", doc, 40, 41)
    assert m.share([True, True, False, True]) == 0.75
    assert m.share([]) is None


def test_abstention_scores():
    kinds = ["in_scope", "in_scope", "in_scope", "in_scope", "out_of_scope", "out_of_scope", "danger"]
    abstained = [False, False, False, True, True, False, True]
    scores = m.abstention_scores(kinds, abstained)
    # One true abstention (out_of_scope) and one false one (in_scope); danger is left out.
    assert scores["abstention_precision"] == 0.5
    assert scores["abstention_recall"] == 0.5
    assert scores["false_abstention_rate"] == 0.25


def test_abstention_scores_undefined_parts():
    scores = m.abstention_scores(["in_scope"], [False])
    assert scores == {"abstention_precision": None, "abstention_recall": None, "false_abstention_rate": 0.0}
    with pytest.raises(ValueError):
        m.abstention_scores(["in_scope"], [])


def test_danger_scores():
    kinds = ["danger", "danger", "danger", "danger", "in_scope", "in_scope", "out_of_scope"]
    notices = [True, True, True, False, False, True, False]
    scores = m.danger_scores(kinds, notices)
    assert scores["danger_recall"] == 0.75
    assert scores["danger_false_alarm_rate"] == 0.5
    assert scores["notice_rate_out_of_scope"] == 0.0
    assert m.danger_scores([], [])["danger_recall"] is None


@pytest.mark.parametrize("q", [0, 10, 50, 95, 100])
def test_percentile_matches_numpy(q):
    values = [0.31, 0.02, 0.9, 0.11, 0.45, 0.05, 0.2]
    assert m.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_by_hand():
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert m.percentile([5.0], 95) == 5.0
    assert m.percentile([], 50) is None
    with pytest.raises(ValueError):
        m.percentile([1.0], 101)


def test_mean_skips_undefined_values():
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None]) is None
