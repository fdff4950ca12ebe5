"""Blind comparison reads. Win rates are Wilson score intervals from `beta.stats.wilson`.

Public, documented helpers for other features:

- `comparison_results(comparison) -> dict`: votes, win rates of each variant with intervals, position bias, reasons.

How "same" counts: a "same" vote is half a win for each side (a tie), so the two win rates add up to 1 and n is every
vote. The page also shows the decisive-only rate (ties left out) and how many ties there were.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from beta import stats
from beta import tools as catalogue
from beta.comparisons.services import input_fingerprint, screen_pick
from beta.models import Comparison, ComparisonVote, Job, JobOutput


def comparison_results(comparison: Comparison) -> dict:
    """The unblinded results of a comparison, for staff only. Two queries.

    Returns {"n", "a", "b", "same", "pending", "variants", "decisive", "left_picked", "votes"}:
    - "n": votes cast; "a" / "b" / "same": counts in true terms; "pending": people who looked but did not vote;
    - "variants": [{"key": "a"|"b", "label", "output", "wins", "rate": wilson(wins + same / 2, n)}, ...];
    - "decisive": Wilson rate of A among A-or-B votes (ties left out), with "decisive_n";
    - "left_picked": Wilson rate of "the output shown on the left" among decisive votes (near 0.5: no position bias);
    - "votes": [{"choice", "label", "pick", "order", "reason", "voter", "voted_at"}] newest first.
    """
    rows = list(
        ComparisonVote.objects.filter(comparison=comparison)
        .select_related("voter")
        .order_by("-voted_at", "-id")
    )
    cast = [v for v in rows if v.voted_at and v.choice]
    counts = {key: sum(1 for v in cast if v.choice == key) for key in ComparisonVote.Choice.values}
    n = len(cast)
    a, b, same = counts["a"], counts["b"], counts["same"]
    labels = {"a": comparison.label_a, "b": comparison.label_b, "same": "About the same"}
    decisive_n = a + b
    left_wins = sum(1 for v in cast if screen_pick(v.order, v.choice) == "left")
    return {
        "n": n,
        "a": a,
        "b": b,
        "same": same,
        "pending": len(rows) - n,
        "variants": [
            {"key": "a", "label": comparison.label_a, "output": comparison.output_a, "wins": a,
             "rate": stats.wilson(a + same / 2, n)},
            {"key": "b", "label": comparison.label_b, "output": comparison.output_b, "wins": b,
             "rate": stats.wilson(b + same / 2, n)},
        ],
        "decisive": stats.wilson(a, decisive_n),
        "decisive_n": decisive_n,
        "left_picked": stats.wilson(left_wins, decisive_n),
        "votes": [
            {
                "choice": v.choice,
                "label": labels[v.choice],
                "pick": screen_pick(v.order, v.choice),
                "order": v.order,
                "reason": v.reason,
                "voter": v.voter,
                "voted_at": v.voted_at,
            }
            for v in cast
        ],
    }


def comparisons_for_user(user) -> QuerySet[Comparison]:
    """The comparisons a partner's studio is asked, newest first, each with `voted` for this person."""
    mine = ComparisonVote.objects.filter(comparison_id=OuterRef("pk"), voter=user, voted_at__isnull=False)
    return Comparison.objects.for_user(user).annotate(voted=Exists(mine))


def open_comparisons_for_user(user, now=None) -> list[Comparison]:
    now = now or timezone.now()
    return list(
        comparisons_for_user(user)
        .filter(status=Comparison.Status.OPEN)
        .filter(Q(due_at__isnull=True) | Q(due_at__gt=now))
    )


def comparisons_for_staff() -> QuerySet[Comparison]:
    return Comparison.objects.select_related("organization").annotate(
        vote_count=Count("votes", filter=Q(votes__voted_at__isnull=False))
    )


def candidate_groups(organization) -> list[dict]:
    """The studio's outputs that can be compared, grouped by the input they were made from.

    [{"fingerprint": (sha256, ...), "inputs": "A001.mov", "outputs": [JobOutput, ...]}], only groups of two or more
    outputs of succeeded jobs, newest jobs first. Each output has `.display` for the staff form.
    """
    outputs = (
        JobOutput.objects.filter(job__organization=organization, job__status=Job.Status.SUCCEEDED)
        .select_related("job", "asset")
        .prefetch_related("job__job_inputs__asset")
        .order_by("-job__finished_at", "-job_id", "id")
    )
    groups: dict[tuple, dict] = defaultdict(lambda: {"outputs": []})
    for output in outputs:
        fingerprint = input_fingerprint(output.job)
        if not fingerprint:
            continue
        group = groups[fingerprint]
        group["fingerprint"] = fingerprint
        group["inputs"] = ", ".join(i.asset.original_filename or i.sha256[:12] for i in output.job.job_inputs.all())
        tool = catalogue.get_tool(output.job.tool_slug)
        output.display = (
            f"Job {output.job_id} · {tool.name if tool else output.job.tool_slug} {output.job.tool_version} · "
            f"{output.label or output.asset.original_filename}"
        )
        group["outputs"].append(output)
    return [g for g in groups.values() if len({o.job_id for o in g["outputs"]}) >= 2]


def dashboard_panel(user, organization) -> list[dict]:
    """The partner dashboard's "Comparisons to judge" panel (registered in beta/apps.py)."""
    comparisons = open_comparisons_for_user(user)
    if not comparisons:
        return []
    return [{"template": "beta/comparisons/_dashboard_panel.html", "comparisons": comparisons}]
