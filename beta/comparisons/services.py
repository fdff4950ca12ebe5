"""Blind comparison writes: staff set one up; each partner gets an order drawn once, then picks.

The order (which output is shown on the left) is drawn at random per person on their first view and stored on their
`ComparisonVote`, so a reload shows the same sides. Partners answer in screen terms (left, right, same); the vote is
stored in true terms (a, b, same), so the page never needs to know which output is which.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from beta import tools as catalogue
from beta.comparisons.errors import ComparisonClosedError, ComparisonError
from beta.models import Comparison, ComparisonVote, Job, JobOutput
from beta.results import cache as results_cache
from portal import events
from portal.errors import PermissionDeniedError
from portal.models import Membership, Organization, User

MAX_REASON = 2000
Order = ComparisonVote.Order
Choice = ComparisonVote.Choice


def input_fingerprint(job: Job) -> tuple[str, ...]:
    """The SHA-256 of the job's inputs, sorted: two outputs are comparable only when these are equal."""
    return tuple(sorted(i.sha256 for i in job.job_inputs.all()))


def default_label(job: Job) -> str:
    tool = catalogue.get_tool(job.tool_slug)
    return f"{tool.name if tool else job.tool_slug} {job.tool_version}"


def comparison_create(
    *,
    actor: User,
    organization: Organization,
    output_a: JobOutput,
    output_b: JobOutput,
    title: str,
    question: str = "",
    label_a: str = "",
    label_b: str = "",
    due_at: datetime | None = None,
) -> Comparison:
    """Ask a studio which of two outputs on the same input is better. Labels default to "<tool> <version>"."""
    if not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff set up comparisons.")
    if output_a.pk == output_b.pk:
        raise ComparisonError("Choose two different outputs.")
    for output in (output_a, output_b):
        if output.job.organization_id != organization.pk:
            raise ComparisonError("Both outputs must come from the studio's own jobs.")
        if output.job.status != Job.Status.SUCCEEDED:
            raise ComparisonError("Both outputs must come from jobs that succeeded.")
    fingerprint_a, fingerprint_b = input_fingerprint(output_a.job), input_fingerprint(output_b.job)
    if not fingerprint_a or fingerprint_a != fingerprint_b:
        raise ComparisonError("The two outputs must be made from the same input (the same SHA-256).")
    if due_at is not None and due_at <= timezone.now():
        raise ComparisonError("The due date must be in the future.")
    with transaction.atomic():
        comparison = Comparison.objects.create(
            organization=organization,
            title=title.strip(),
            question=question.strip() or Comparison._meta.get_field("question").default,
            output_a=output_a,
            output_b=output_b,
            label_a=label_a.strip() or default_label(output_a.job),
            label_b=label_b.strip() or default_label(output_b.job),
            due_at=due_at,
            created_by=actor,
        )
        events.publish("comparison.opened", organization_id=organization.pk, data={"comparison_id": comparison.pk})
    return comparison


def comparison_set_status(*, actor: User, comparison: Comparison, status: str) -> Comparison:
    """Close a comparison to votes, or open it again."""
    if not actor.is_studio_staff:
        raise PermissionDeniedError("Only studio staff open and close comparisons.")
    if status not in Comparison.Status.values:
        raise ComparisonError("Unknown status.")
    comparison.status = status
    comparison.save(update_fields=["status", "updated_at"])
    return comparison


def is_open(comparison: Comparison, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return comparison.status == Comparison.Status.OPEN and (comparison.due_at is None or now < comparison.due_at)


def _require_member(actor: User, comparison: Comparison) -> None:
    if not Membership.objects.filter(user=actor, organization_id=comparison.organization_id).exists():
        raise PermissionDeniedError("Only the studio's own people take part in its comparisons.")


def vote_for_viewer(*, actor: User, comparison: Comparison) -> ComparisonVote:
    """The person's vote row, created on their first view with an order drawn at random (and kept from then on)."""
    _require_member(actor, comparison)
    vote = ComparisonVote.objects.filter(comparison=comparison, voter=actor).first()
    if vote is not None:
        return vote
    try:
        with transaction.atomic():
            return ComparisonVote.objects.create(
                comparison=comparison, voter=actor, order=secrets.choice([Order.AB, Order.BA])
            )
    except IntegrityError:  # two first views at once: the one stored first wins, so both see the same order
        return ComparisonVote.objects.get(comparison=comparison, voter=actor)


def true_choice(order: str, pick: str) -> str:
    """A pick in screen terms (left, right, same) in true terms (a, b, same), given the order shown."""
    if pick == "same":
        return Choice.SAME
    if pick not in ("left", "right"):
        raise ComparisonError("Pick the left output, the right one, or “about the same”.")
    left_is_a = order == Order.AB
    return Choice.A if (pick == "left") == left_is_a else Choice.B


def screen_pick(order: str, choice: str) -> str:
    """The inverse of `true_choice`: how a stored choice shows on this person's screen."""
    if not choice:
        return ""
    if choice == Choice.SAME:
        return "same"
    return "left" if (choice == Choice.A) == (order == Order.AB) else "right"


def output_for_side(comparison: Comparison, vote: ComparisonVote, side: str) -> JobOutput:
    """Which output this person sees on the given side."""
    if side not in ("left", "right"):
        raise ComparisonError("A side is left or right.")
    shows_a = (side == "left") == (vote.order == Order.AB)
    return comparison.output_a if shows_a else comparison.output_b


def vote_submit(*, actor: User, comparison: Comparison, pick: str, reason: str) -> ComparisonVote:
    """Record (or change, while the comparison is open) the person's pick and reason."""
    _require_member(actor, comparison)
    if not is_open(comparison):
        raise ComparisonClosedError("This comparison is closed; votes can no longer be given or changed.")
    reason = (reason or "").strip()
    if not reason:
        raise ComparisonError("Tell us why, in a sentence or two.")
    if len(reason) > MAX_REASON:
        raise ComparisonError(f"Keep the reason to {MAX_REASON:,} characters.")
    vote_for_viewer(actor=actor, comparison=comparison)
    with transaction.atomic():
        vote = ComparisonVote.objects.select_for_update().get(comparison=comparison, voter=actor)
        vote.choice = true_choice(vote.order, pick)
        vote.reason = reason
        vote.voted_at = timezone.now()
        vote.save(update_fields=["choice", "reason", "voted_at", "updated_at"])
        transaction.on_commit(results_cache.invalidate)  # the results dashboard's cached numbers are out of date
    return vote
