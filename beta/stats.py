"""The programme's statistics, in one place: plain Python, no Django, so every page, export and report agrees.

- `wilson(successes, n)`: a proportion with its Wilson score interval (win rates, success rates).
- `nps(scores)`, `nps_from_counts(promoters, passives, detractors)`: Net Promoter Score with its interval.
- `nps_groups(scores)`: promoters (9-10), passives (7-8), detractors (0-6).
- `percentile(values, p)`: nearest-rank percentile (always an observed value, never interpolated).
- `mean(values)`, `rating_summary(values)`: the mean, and n, mean and distribution of ratings.

Every interval is two-sided at 95 % (`Z95`) unless a `z` is given.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

#: two-sided 95 % normal quantile
Z95 = 1.959963984540054
PROMOTER_MIN = 9  # 9-10 promote
DETRACTOR_MAX = 6  # 0-6 detract; 7-8 are passives

Interval = tuple[float | None, float | None, float | None]
NpsResult = tuple[float | None, float | None, float | None, int]


def wilson(successes: float, n: int, z: float = Z95) -> Interval:
    """The share of `n` trials that succeeded, with its Wilson score interval: `(p, low, high)`, each in 0..1.

    p = successes / n; the interval is (p + z^2/2n +/- z * sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
    Unlike the normal (Wald) interval it stays inside [0, 1] and behaves at p = 0 or 1 and for small n.
    `successes` may be fractional (a tie counted as half a win). With n = 0 every number is None.
    """
    if n <= 0:
        return None, None, None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return p, max(centre - half, 0.0), min(centre + half, 1.0)


def nps_from_counts(promoters: int, passives: int, detractors: int, z: float = Z95) -> NpsResult:
    """Net Promoter Score from the counts of each group, with its interval: `(score, low, high, n)`.

    score = 100 * (P - D), P and D the shares of promoters and detractors among all n answers.
    Interval: the normal (Wald) approximation with the variance of the NPS as a difference of two multinomial
    proportions, Var(P - D) = (P + D - (P - D)^2) / n, so score +/- z * 100 * sqrt(Var), clipped to [-100, 100].
    With no answers every number but n is None. With n below ~30 the interval is approximate (and it has zero width
    when every answer is in one group): report n next to it.
    """
    n = promoters + passives + detractors
    if n <= 0:
        return None, None, None, 0
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    variance = max(p + d - (p - d) ** 2, 0.0) / n
    margin = z * 100 * math.sqrt(variance)
    return score, max(score - margin, -100.0), min(score + margin, 100.0), n


def nps_groups(scores: Iterable[float]) -> dict[str, int]:
    """How many promoters (9-10), passives (7-8) and detractors (0-6)."""
    groups = {"promoters": 0, "passives": 0, "detractors": 0}
    for value in scores:
        key = "promoters" if value >= PROMOTER_MIN else "detractors" if value <= DETRACTOR_MAX else "passives"
        groups[key] += 1
    return groups


def nps(scores: Iterable[float], z: float = Z95) -> NpsResult:
    """Net Promoter Score of 0-10 answers with its interval: `(score, low, high, n)` (see `nps_from_counts`)."""
    groups = nps_groups(scores)
    return nps_from_counts(groups["promoters"], groups["passives"], groups["detractors"], z)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted values (at least rank 1).

    The smallest value with at least p % of the values at or below it; None without values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Iterable[float]) -> float | None:
    """The arithmetic mean; None without values."""
    values = list(values)
    return sum(values) / len(values) if values else None


def rating_summary(values: Iterable[float], scale: Iterable[int] = range(1, 6)) -> dict[str, object]:
    """{"n", "mean" (None without answers), "distribution": [(value, count), ...] over the whole scale}."""
    values = list(values)
    counts = Counter(int(v) for v in values)
    return {
        "n": len(values),
        "mean": mean(values),
        "distribution": [(value, counts.get(value, 0)) for value in scale],
    }
