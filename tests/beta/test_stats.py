"""beta/stats.py: the programme's one statistics module, against published values and sums done by hand."""

import math

import pytest

from beta import stats

DAILIES_SECONDS = [12.0, 30.0, 7.5, 44.0, 21.0, 19.0, 95.0, 33.0, 28.0, 15.0, 61.0]


def nearest_rank(values, p):
    """Textbook nearest rank, written out independently of the app's helper."""
    ordered = sorted(values)
    n = len(ordered)
    for rank in range(1, n + 1):
        if rank / n * 100 >= p:
            return ordered[rank - 1]
    return ordered[-1]


# --- Wilson score interval --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (Wilson)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_examples(successes, n, low, high):
    p, got_low, got_high = stats.wilson(successes, n)
    assert p == pytest.approx(successes / n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_on_a_known_set():
    p, low, high = stats.wilson(7, 10)
    assert p == pytest.approx(0.7)
    # Wilson score interval for 7/10 at 95 %: 0.3968 to 0.8922 (textbook value)
    assert low == pytest.approx(0.3968, abs=5e-4)
    assert high == pytest.approx(0.8922, abs=5e-4)
    p, low, high = stats.wilson(0, 10)
    assert (p, low) == (0.0, 0.0)
    assert high == pytest.approx(0.2775, abs=5e-4)
    assert stats.wilson(0, 0) == (None, None, None)
    with pytest.raises(ValueError, match="between 0 and n"):
        stats.wilson(11, 10)


def test_wilson_takes_half_wins_and_a_wider_z():
    # 6 wins and 2 ties of 10 is 7 of 10; a 99 % interval (z = 2.5758) is wider than the 95 % one
    assert stats.wilson(6 + 2 / 2, 10) == pytest.approx(stats.wilson(7, 10))
    _, low95, high95 = stats.wilson(7, 10)
    _, low99, high99 = stats.wilson(7, 10, z=2.5758293035489)
    assert low99 < low95 < 0.7 < high95 < high99


# --- NPS --------------------------------------------------------------------------------------------------------------
def test_nps_on_a_known_set_is_exact_with_its_normal_approximation_interval():
    # Given 10 scores: 5 promoters (9-10), 2 passives (7-8), 3 detractors (0-6)
    scores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
    score, low, high, n = stats.nps(scores)
    # Then NPS = 100 * (0.5 - 0.3) = 20, and Var = (0.5 + 0.3 - 0.2^2) / 10 = 0.076
    assert n == 10
    assert score == pytest.approx(20.0)
    margin = 1.959963984540054 * 100 * math.sqrt(0.076)
    assert margin == pytest.approx(54.03, abs=0.01)
    assert low == pytest.approx(20.0 - margin)
    assert high == pytest.approx(20.0 + margin)
    assert stats.nps_groups(scores) == {"promoters": 5, "passives": 2, "detractors": 3}


def test_nps_from_counts_by_hand():
    # 40 promoters, 35 passives, 25 detractors of 100: NPS = 40 - 25 = 15;
    # Var = (0.40 + 0.25 - 0.15^2) / 100 = 0.006275, margin = 1.96 * 100 * 0.079215 = 15.53
    score, low, high, n = stats.nps_from_counts(40, 35, 25)
    assert (score, n) == (pytest.approx(15.0), 100)
    assert low == pytest.approx(15.0 - 15.526, abs=1e-3)
    assert high == pytest.approx(15.0 + 15.526, abs=1e-3)
    # the same answers as raw scores give the same numbers
    assert stats.nps([10] * 40 + [7] * 35 + [2] * 25) == pytest.approx((score, low, high, n))


def test_nps_edges():
    assert stats.nps([]) == (None, None, None, 0)
    assert stats.nps_from_counts(0, 0, 0) == (None, None, None, 0)
    assert stats.nps([10, 9, 9]) == (100.0, 100.0, 100.0, 3)
    score, low, high, n = stats.nps([0, 10])
    assert (score, n) == (0.0, 2)
    assert low == -100.0  # clipped: the approximation would go below -100
    assert high == 100.0


# --- Percentiles and summaries ----------------------------------------------------------------------------------------
def test_nearest_rank_percentile_on_a_known_set():
    # The classic example: 15, 20, 35, 40, 50.
    values = [15, 20, 35, 40, 50]
    assert [stats.percentile(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]
    assert stats.percentile([], 50) is None
    for p in (1, 25, 50, 90, 95, 99):
        assert stats.percentile(DAILIES_SECONDS, p) == nearest_rank(DAILIES_SECONDS, p)


def test_percentile_of_twenty_values_p95_is_the_nineteenth():
    values = list(range(20, 0, -1))
    assert stats.percentile(values, 95) == 19
    assert stats.percentile(values, 0) == 1


def test_mean_and_rating_summary():
    assert stats.mean([]) is None
    assert stats.mean([1, 2, 3, 4]) == pytest.approx(2.5)
    summary = stats.rating_summary([5, 4, 4, 1])
    assert summary["n"] == 4
    assert summary["mean"] == pytest.approx(3.5)
    assert summary["distribution"] == [(1, 1), (2, 0), (3, 0), (4, 2), (5, 1)]
    assert stats.rating_summary([], range(11))["distribution"] == [(v, 0) for v in range(11)]
