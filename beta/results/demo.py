"""Demo feedback, a survey with answers and a blind comparison, so the dashboard and the May report show something.

Idempotent: every row is found by a natural key (a job's idempotency key, a report's job and author, a survey's
title, a comparison's title) before it is made, so running the seed again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from beta import tools as catalogue
from beta.jobs.execute import job_execute
from beta.jobs.submit import validate_parameters
from beta.models import (
    Comparison,
    ComparisonVote,
    FeedbackCategory,
    FeedbackComment,
    FeedbackNote,
    FeedbackReport,
    FeedbackRevision,
    FeedbackTag,
    Job,
    JobInput,
    Question,
    Survey,
    SurveyAnswer,
    SurveyAssignment,
    SurveyResponse,
)
from portal.models import Cohort, Membership, Organization, User

SURVEY_TITLE = "Mid-beta check-in"
COMPARISON_TITLE = "Dailies review copy: which one would you send to the director?"
COMPARISON_PARAMS = {"height": 360, "crf": 30}

#: Earlier runs of Harbour Lane Films (no media: rows only), spread over five weeks:
#: (key, tool, version, status, days ago, run seconds)
HISTORY = [
    ("hl-01", "dailies", "0.9.0", "succeeded", 33, 41.0),
    ("hl-02", "dailies", "0.9.0", "failed", 32, 12.0),
    ("hl-03", "shot-detect", "1.0.0", "succeeded", 27, 18.5),
    ("hl-04", "dailies", "0.9.0", "succeeded", 26, 44.0),
    ("hl-05", "dailies", "1.0.0", "succeeded", 19, 29.0),
    ("hl-06", "shot-detect", "1.0.0", "failed", 18, 7.5),
    ("hl-07", "dailies", "1.0.0", "succeeded", 12, 26.5),
    ("hl-08", "shot-detect", "1.0.0", "succeeded", 11, 16.0),
    ("hl-09", "dailies", "1.0.0", "succeeded", 5, 31.0),
    ("hl-10", "shot-detect", "1.0.0", "succeeded", 4, 21.0),
    ("hl-11", "dailies", "1.0.0", "canceled", 3, 9.0),
]

#: (job: a history key or (northlight tool, nth run), author email, overall, quality, usefulness, fit, hours,
#:  categories, status, text)
FEEDBACK = [
    ("hl-01", "owner@harbourlane.test", 3, 3, 4, "with_changes", "1.5", ["speed"], "closed",
     "Useful, but the proxy took longer than our own transcode."),
    ("hl-03", "vfx@harbourlane.test", 4, 4, 4, "yes", "2.0", ["controls"], "actioned",
     "Shot list matched our cut almost exactly; we'd like a sensitivity slider."),
    ("hl-04", "vfx@harbourlane.test", 2, 2, 3, "no", "-0.5", ["artefacts", "consistency"], "triaged",
     "Banding in the dark sky shots, and the watermark moved between clips."),
    ("hl-05", "owner@harbourlane.test", 4, 4, 5, "yes", "3.0", [], "closed",
     "Much better than 0.9. The burnt-in timecode is exactly what the editors need."),
    ("hl-07", "vfx@harbourlane.test", 5, 4, 5, "yes", "2.5", ["other"], "new",
     "Saved me an afternoon of exports before the VFX review."),
    ("hl-08", "owner@harbourlane.test", 4, 5, 4, "with_changes", "1.0", ["controls"], "new",
     "The EDL imported cleanly into Resolve; the CSV needs frame counts too."),
    ("hl-09", "vfx@harbourlane.test", 4, 4, 4, "yes", "2.0", ["ip_concerns"], "triaged",
     "Good result. Please confirm the proxies never leave our studio's storage."),
    ("hl-10", "owner@harbourlane.test", 3, 3, 3, "with_changes", "0.5", ["speed", "controls"], "new",
     "Fine for a first pass; it split one long dissolve into three shots."),
    (("dailies", 0), "owner@northlight.test", 5, 5, 5, "yes", "4.0", [], "actioned",
     "This is the dailies workflow we have wanted for years: one click and the producer has a watermarked copy."),
    (("dailies", 0), "editor@northlight.test", 4, 4, 5, "yes", "3.5", ["artefacts"], "triaged",
     "Slight softness on the titles at 360p, otherwise spot on."),
    (("shot-detect", 0), "editor@northlight.test", 4, 5, 4, "with_changes", "2.0", ["consistency"], "new",
     "Cuts are right; the thumbnails are sometimes a frame early."),
    (("shot-detect", 0), "owner@northlight.test", 5, 4, 4, "yes", "1.5", [], "new",
     "Quick and accurate on our test reel."),
]
QUOTED = ("dailies", 0), "owner@northlight.test"
REPLY = ("Thank you! The softness comes from the 360p preset; 540p keeps titles crisp. "
         "We are adding a per-studio default height in the next version.")
NOTES = [(2.0, "Titles soften here."), (5.5, "Timecode burn-in overlaps the lower third.")]

SURVEY_QUESTIONS = [
    (Question.Kind.NPS, "How likely are you to recommend the AI Studio tools to a colleague?", []),
    (Question.Kind.RATING, "How well do the tools fit your production workflow?", []),
    (Question.Kind.SINGLE, "Which tool did you use most this week?", ["Dailies and proxies", "Shot detection"]),
    (Question.Kind.MULTIPLE, "What should we improve first?", ["Speed", "Controls", "Quality", "Integrations"]),
    (Question.Kind.LONG_TEXT, "Anything else?", []),
]
#: respondent → (nps, rating, single, multiple, text)
SURVEY_ANSWERS = {
    "owner@northlight.test": (10, 5, "Dailies and proxies", ["Integrations"], "Keep the dailies preset as it is."),
    "editor@northlight.test": (9, 4, "Shot detection", ["Controls", "Quality"], ""),
    "owner@harbourlane.test": (7, 3, "Dailies and proxies", ["Speed"], "Faster proxies for long takes, please."),
    "vfx@harbourlane.test": (4, 3, "Dailies and proxies", ["Quality", "Speed"], "Banding on dark plates."),
}
VOTES = {
    "owner@northlight.test": ("ab", "a", "Cleaner gradients in the sky; B shows blocking."),
    "editor@northlight.test": ("ba", "same", "I can't tell them apart at review size."),
}


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _run_demo_job(*, organization: Organization, user: User, video, slug: str, params: dict, key: str) -> Job:
    """A real run of a tool on the demo video, in this process (the demo needs no worker)."""
    job = Job.objects.filter(organization=organization, idempotency_key=key).first()
    if job is not None:
        return job
    tool = catalogue.get_tool(slug)
    with transaction.atomic():
        job = Job.objects.create(
            organization=organization, submitted_by=user, tool_slug=slug, tool_version=tool.version,
            queue=tool.queue, parameters=validate_parameters(tool, params), status=Job.Status.QUEUED,
            celery_task_id="demo", idempotency_key=key,
        )
        JobInput.objects.create(job=job, asset=video, position=0, sha256=video.sha256)
    job_execute(job_id=job.pk, hostname="seed_demo")
    job.refresh_from_db()
    return job


def _history_jobs(studio: Organization, user: User, now) -> dict[str, Job]:
    jobs = {}
    for key, slug, version, status, days_ago, seconds in HISTORY:
        job = Job.objects.filter(organization=studio, idempotency_key=f"demo-{key}").first()
        if job is None:
            started = now - timedelta(days=days_ago, hours=2)
            job = Job.objects.create(
                organization=studio, submitted_by=user, tool_slug=slug, tool_version=version,
                status=status, progress=100 if status == "succeeded" else 40, idempotency_key=f"demo-{key}",
                celery_task_id="demo", stage="Done" if status == "succeeded" else "",
                error="The clip has no video stream." if status == "failed" else "",
                started_at=started, finished_at=started + timedelta(seconds=seconds), compute_seconds=seconds,
                summary={"demo": "an earlier run, kept as a row only"},
            )
            Job.objects.filter(pk=job.pk).update(queued_at=started - timedelta(seconds=3))
        jobs[key] = job
    return jobs


def _feedback(job: Job, author: User, row: tuple, when, reviewer: User, now) -> FeedbackReport:
    _, _, overall, quality, usefulness, fit, hours, categories, status, text = row
    report = FeedbackReport.objects.filter(job=job, author=author).first()
    if report is not None:
        return report
    report = FeedbackReport.objects.create(
        organization=job.organization, job=job, author=author, tool_slug=job.tool_slug, tool_version=job.tool_version,
        parameters=job.parameters, input_sha256=list(job.job_inputs.values_list("sha256", flat=True)),
        status=status, overall_rating=overall, quality_rating=quality, usefulness_rating=usefulness,
        production_fit=fit, hours_saved=Decimal(hours), text=text, revision=1, submitted_at=when, revised_at=when,
        assignee=reviewer if status != "new" else None,
        triaged_at=min(when + timedelta(hours=3), now) if status != "new" else None,  # never in the future
    )
    FeedbackCategory.objects.bulk_create([FeedbackCategory(report=report, category=c) for c in categories])
    FeedbackRevision.objects.create(report=report, number=1, submitted_by=author, content={
        "overall_rating": overall, "quality_rating": quality, "usefulness_rating": usefulness,
        "production_fit": fit, "hours_saved": hours, "categories": categories, "text": text,
    })
    return report


def _seed_feedback(northlight_runs: dict, history: dict, reviewer, now) -> None:
    """The demo's feedback reports; one quoted, one with staff's comments, a reply and notes at timecodes."""
    tags = {name: FeedbackTag.objects.get_or_create(name=name)[0] for name in ("roadmap", "quality")}
    reports = {}
    for row in FEEDBACK:
        job_key, email = row[0], row[1]
        if isinstance(job_key, tuple):
            runs = northlight_runs[job_key[0]]
            if len(runs) <= job_key[1]:
                continue
            job = runs[job_key[1]]
        else:
            job = history[job_key]
        # Five hours after the run, but never later than now: the runs seeded just above finished moments ago,
        # and a report "submitted in 4 hours" showed as "4 hours from now" in the inbox.
        when = min((job.finished_at or now) + timedelta(hours=5), now)
        report = _feedback(job, _user(email), row, when, reviewer, now)
        reports[(job_key, email)] = report
    quoted = reports.get(QUOTED)
    if quoted is not None and not quoted.quote_selected:
        quoted.quote_selected = True
        quoted.quote = quoted.text
        quoted.save(update_fields=["quote_selected", "quote", "updated_at"])
        quoted.tags.add(tags["roadmap"])
    replied = reports.get((("dailies", 0), "editor@northlight.test"))
    if replied is not None and not replied.comments.exists():
        FeedbackComment.objects.create(report=replied, author=reviewer, kind=FeedbackComment.Kind.INTERNAL,
                                       body="Known 360p preset softness; see the roadmap item on defaults.")
        FeedbackComment.objects.create(report=replied, author=reviewer, kind=FeedbackComment.Kind.REPLY,
                                       body=REPLY)
        replied.tags.add(tags["quality"])
        proxy = replied.job.job_outputs.filter(asset__kind="video").first()
        for seconds, text in NOTES:
            FeedbackNote.objects.create(report=replied, output=proxy, seconds=seconds, text=text)


def _seed_survey(northlight, admin, now) -> Survey:
    """The survey, assigned to Northlight's cohort, with the demo's answers."""
    survey, _ = Survey.objects.get_or_create(
        title=SURVEY_TITLE,
        defaults={"description": "Five questions on your first weeks with the tools.", "created_by": admin},
    )
    if not survey.questions.exists():
        Question.objects.bulk_create([
            Question(survey=survey, position=i, kind=kind, prompt=prompt, choices=choices,
                     required=kind != Question.Kind.LONG_TEXT)
            for i, (kind, prompt, choices) in enumerate(SURVEY_QUESTIONS)
        ])
    SurveyAssignment.objects.get_or_create(
        survey=survey, cohort=northlight.cohort,
        defaults={"opens_at": now - timedelta(days=3), "due_at": now + timedelta(days=4), "notified_at": now},
    )
    questions = list(survey.questions.order_by("position"))
    for email, values in SURVEY_ANSWERS.items():
        respondent = _user(email)
        organization = Membership.objects.get(user=respondent).organization
        response, created = SurveyResponse.objects.get_or_create(
            survey=survey, respondent=respondent,
            defaults={"organization": organization, "submitted_at": now - timedelta(days=1)},
        )
        if not created:
            continue
        for question, value in zip(questions, values, strict=True):
            if value in ("", []):
                continue
            number = float(value) if question.kind in (Question.Kind.NPS, Question.Kind.RATING) else None
            SurveyAnswer.objects.create(response=response, question=question, value=value, number=number)
    return survey


def _seed_comparison(northlight, baseline, variant, reviewer, now) -> Comparison | None:
    """The blind comparison of two dailies runs (when both exist) and its votes."""
    comparison = Comparison.objects.filter(organization=northlight, title=COMPARISON_TITLE).first()
    if comparison is None and baseline is not None and variant.status == Job.Status.SUCCEEDED:
        output_a = baseline.job_outputs.filter(asset__kind="video").first()
        output_b = variant.job_outputs.filter(asset__kind="video").first()
        if output_a and output_b:
            comparison = Comparison.objects.create(
                organization=northlight, title=COMPARISON_TITLE, output_a=output_a, output_b=output_b,
                label_a="dailies 1.0.0, CRF 23", label_b="dailies 1.0.0, CRF 30", created_by=reviewer,
                due_at=now + timedelta(days=7),
            )
    if comparison is not None:
        for email, (order, choice, reason) in VOTES.items():
            ComparisonVote.objects.get_or_create(
                comparison=comparison, voter=_user(email),
                defaults={"order": order, "choice": choice, "reason": reason, "voted_at": now - timedelta(hours=6)},
            )
    return comparison


def seed_results_demo(*, video, stdout=None) -> dict:
    """Feedback on the demo runs, a survey with answers and a blind comparison with votes (idempotent)."""
    now = timezone.now()
    northlight = Organization.objects.get(slug="northlight")
    harbour = Organization.objects.get(slug="harbour-lane")
    reviewer = _user("reviewer@greenlight.test")
    admin = _user("admin@greenlight.test")
    nl_owner = _user("owner@northlight.test")
    # The cohort's window covers the earlier runs below (a report's period defaults to the cohort windows).
    earliest = now - timedelta(days=max(row[4] for row in HISTORY) + 2)
    if northlight.cohort_id is not None:
        Cohort.objects.filter(pk=northlight.cohort_id, opens_at__gt=earliest).update(opens_at=earliest)

    # A second dailies run at another quality, so the comparison has two real outputs of the same input.
    baseline = (
        Job.objects.filter(organization=northlight, tool_slug="dailies", job_inputs__asset=video,
                           status=Job.Status.SUCCEEDED).exclude(idempotency_key="demo-comparison").order_by("id").first()
    )
    variant = _run_demo_job(organization=northlight, user=nl_owner, video=video, slug="dailies",
                            params=COMPARISON_PARAMS, key="demo-comparison")

    history = _history_jobs(harbour, _user("owner@harbourlane.test"), now)
    northlight_runs = {
        slug: list(Job.objects.filter(organization=northlight, tool_slug=slug, job_inputs__asset=video)
                   .exclude(idempotency_key="demo-comparison").order_by("id"))
        for slug in ("dailies", "shot-detect")
    }
    with transaction.atomic():
        _seed_feedback(northlight_runs, history, reviewer, now)
        survey = _seed_survey(northlight, admin, now)
        comparison = _seed_comparison(northlight, baseline, variant, reviewer, now)
    summary = {
        "reports": FeedbackReport.objects.submitted().count(),
        "survey_responses": SurveyResponse.objects.filter(survey=survey).count(),
        "comparison_votes": ComparisonVote.objects.filter(comparison=comparison).count() if comparison else 0,
    }
    if stdout is not None:
        stdout.write(
            f"Demo results: {summary['reports']} feedback reports, a survey with {summary['survey_responses']} "
            f"responses, a blind comparison with {summary['comparison_votes']} votes."
        )
    return summary
