"""Writes for feedback on a run: the partner's report and the staff's triage.

A report belongs to one person and one finished run of their studio. What was run (tool, version, parameters,
inputs' SHA-256) is captured from the job when the report is started. Drafts are saved as the partner types;
submitting validates every field and freezes a `FeedbackRevision`; editing after that keeps the edits as a draft
(`draft_content`) until they are submitted as the next revision, so staff always read the latest submitted text.
Staff triage (status, assignee, tags), comment internally (never shown to partners) and reply (the author is
emailed and the studio's webhooks hear `feedback.replied`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from assets.models import Asset
from beta.errors import FeedbackError
from beta.models import (
    FeedbackAttachment,
    FeedbackCategory,
    FeedbackComment,
    FeedbackNote,
    FeedbackNoteReply,
    FeedbackReadMark,
    FeedbackReport,
    FeedbackRevision,
    FeedbackTag,
    Job,
    JobInput,
    JobOutput,
)
from beta.results import cache as results_cache
from portal import events
from portal.cohorts import cohort_window
from portal.errors import PermissionDeniedError
from portal.ids import parse_id
from portal.models import Membership, User

Status = FeedbackReport.Status
RATING_FIELDS = {
    "overall_rating": "Rate the run overall, from 1 to 5.",
    "quality_rating": "Rate the output's quality, from 1 to 5.",
    "usefulness_rating": "Rate how useful it was, from 1 to 5.",
}
FIELDS = (*RATING_FIELDS, "production_fit", "hours_saved", "categories", "text")
REQUIRED_ON_SUBMIT = {
    **RATING_FIELDS,
    "production_fit": "Say whether it is fit for production.",
    "hours_saved": "Estimate the hours saved (0 if none, negative if it cost time).",
}
HOURS_LIMIT = Decimal(1000)
TEXT_MAX = 10_000
NOTE_MAX = 2_000
COMMENT_MAX = 5_000
TAG_MAX = 40
TRIAGE_STATUSES = (Status.NEW, Status.TRIAGED, Status.ACTIONED, Status.CLOSED)


# --- Cleaning ---------------------------------------------------------------------------------------------------------
def _clean_rating(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("Choose 1 to 5.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("Choose 1 to 5.") from None
    if not 1 <= number <= 5:
        raise ValueError("Choose 1 to 5.")
    return number


def _clean_fit(value) -> str:
    value = "" if value is None else str(value).strip()
    if value and value not in FeedbackReport.ProductionFit.values:
        raise ValueError("Choose yes, with changes, or no.")
    return value


def _clean_hours(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("Enter a number of hours, e.g. 1.5.")
    try:
        hours = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("Enter a number of hours, e.g. 1.5.") from None
    if not hours.is_finite():
        raise ValueError("Enter a number of hours, e.g. 1.5.")
    if not -HOURS_LIMIT <= hours <= HOURS_LIMIT:
        raise ValueError("Enter between -1000 and 1000 hours.")
    return hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clean_categories(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set):
        raise ValueError("Choose categories from the list.")
    chosen = []
    for item in value:
        item = str(item).strip()
        if not item:  # the form's empty placeholder, so that "none ticked" is sent at all
            continue
        if item not in FeedbackCategory.Category.values:
            raise ValueError(f"“{item[:40]}” is not one of the categories.")
        if item not in chosen:
            chosen.append(item)
    return sorted(chosen)


def _clean_text(value) -> str:
    text = "" if value is None else str(value).replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise ValueError(f"Keep it under {TEXT_MAX:,} characters (this is {len(text):,}).")
    return text


CLEANERS = {
    **dict.fromkeys(RATING_FIELDS, _clean_rating),
    "production_fit": _clean_fit,
    "hours_saved": _clean_hours,
    "categories": _clean_categories,
    "text": _clean_text,
}


def plain_data(data) -> dict:
    """A dict of the feedback keys from a dict or a QueryDict (whose categories are a list)."""
    if data is None:
        return {}
    if hasattr(data, "getlist"):
        plain = {k: data.get(k) for k in FIELDS if k in data and k != "categories"}
        if "categories" in data:
            plain["categories"] = data.getlist("categories")
        return plain
    if not isinstance(data, Mapping):
        raise FeedbackError("Feedback must be given as fields and values.")
    return {k: v for k, v in data.items() if k in FIELDS}


def clean_feedback_data(data, *, require_all: bool) -> tuple[dict, dict[str, str]]:
    """(cleaned values, errors per field). With `require_all`, every required field must have a value."""
    data = plain_data(data)
    cleaned, errors = {}, {}
    for name in FIELDS:
        if name in data:
            try:
                cleaned[name] = CLEANERS[name](data[name])
            except ValueError as exc:
                errors[name] = str(exc)
                continue
        if require_all and name in REQUIRED_ON_SUBMIT and cleaned.get(name) in (None, ""):
            errors[name] = REQUIRED_ON_SUBMIT[name]
    return cleaned, errors


def _jsonable(cleaned: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in cleaned.items()}


def report_content(report: FeedbackReport) -> dict:
    """The report's own (latest submitted, or draft) values, as JSON."""
    return {
        "overall_rating": report.overall_rating,
        "quality_rating": report.quality_rating,
        "usefulness_rating": report.usefulness_rating,
        "production_fit": report.production_fit,
        "hours_saved": None if report.hours_saved is None else str(report.hours_saved),
        "categories": sorted(c.category for c in report.categories.all()),
        "text": report.text,
    }


def working_content(report: FeedbackReport) -> dict:
    """What the partner's form shows: the report, with any unsubmitted edits on top."""
    return {**report_content(report), **(report.draft_content or {})}


def _apply(report: FeedbackReport, cleaned: dict) -> None:
    for name in FIELDS:
        if name in cleaned and name != "categories":
            setattr(report, name, cleaned[name])
    if "categories" in cleaned:
        wanted = set(cleaned["categories"])
        report.categories.exclude(category__in=wanted).delete()
        have = set(report.categories.values_list("category", flat=True))
        FeedbackCategory.objects.bulk_create(
            [FeedbackCategory(report=report, category=c) for c in sorted(wanted - have)]
        )


# --- Who may write ----------------------------------------------------------------------------------------------------
def _membership(user: User, organization_id: int) -> Membership | None:
    if user is None or not user.is_authenticated or user.is_studio_staff:
        return None
    return (
        Membership.objects.select_related("organization__cohort")
        .filter(user=user, organization_id=organization_id)
        .first()
    )


def _require_filer(user: User, organization_id: int) -> None:
    membership = _membership(user, organization_id)
    if membership is None:
        raise FeedbackError(
            "Only members of the studio that ran this job can give feedback on it.", {"": "not-a-member"}
        )
    if membership.role == Membership.Role.VIEWER:
        raise FeedbackError(
            "Viewers cannot give feedback. Ask your studio's owner for the member role.", {"": "viewer"}
        )
    if cohort_window(membership.organization).read_only:
        raise FeedbackError("Your studio's beta window is closed: feedback is read-only.", {"": "closed"})


def _lock_own(user: User, report: FeedbackReport) -> FeedbackReport:
    """The report, locked for writing, if `user` wrote it and is still a (non-viewer) member of its studio."""
    _require_filer(user, report.organization_id)
    locked = FeedbackReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise FeedbackError("This feedback no longer exists.")
    if locked.author_id != user.pk:
        raise FeedbackError("Only the person who wrote this feedback can change it.")
    return locked


def _require_staff(user: User) -> None:
    if user is None or not user.is_authenticated or not user.is_studio_staff:
        raise PermissionDeniedError("Only studio staff can do this.")


# --- The partner's report ---------------------------------------------------------------------------------------------
def feedback_start(*, user: User, job: Job) -> FeedbackReport:
    """This person's report on a finished run of their own studio, created (as a draft) on first use.

    The run's tool, version, parameters and inputs' fingerprints are copied from the job, never retyped."""
    _require_filer(user, job.organization_id)
    if job.status not in Job.FINISHED:
        raise FeedbackError("Feedback opens when the job has finished.", {"": "not-finished"})
    existing = FeedbackReport.objects.filter(job=job, author=user).first()
    if existing is not None:
        return existing
    inputs = list(job.job_inputs.order_by("position").values_list("sha256", flat=True))
    try:
        with transaction.atomic():
            return FeedbackReport.objects.create(
                organization_id=job.organization_id,
                job=job,
                author=user,
                tool_slug=job.tool_slug,
                tool_version=job.tool_version,
                parameters=job.parameters or {},
                input_sha256=inputs,
            )
    except IntegrityError:  # a second tab started it at the same moment
        return FeedbackReport.objects.get(job=job, author=user)


def feedback_save_draft(*, user: User, report: FeedbackReport, data) -> FeedbackReport:
    """Keep what the partner has typed so far. Nothing is required; a value that is not valid yet (e.g. "1.2.")
    is left out and named in `report.draft_errors`, so the rest is still kept."""
    cleaned, errors = clean_feedback_data(data, require_all=False)
    with transaction.atomic():
        report = _lock_own(user, report)
        if report.is_draft:
            _apply(report, cleaned)
        else:  # keep only what differs from the submitted revision, so "unsubmitted changes" means just that
            submitted = report_content(report)
            merged = {**(report.draft_content or {}), **_jsonable(cleaned)}
            report.draft_content = {k: v for k, v in merged.items() if submitted.get(k) != v}
        report.draft_saved_at = timezone.now()
        report.save()
    report.draft_errors = errors
    return report


def feedback_submit(*, user: User, report: FeedbackReport, data) -> FeedbackReport:
    """Validate every field and submit: the first submission makes the report `new` with revision 1; each later
    submission (an edit) adds the next revision. Every revision is kept."""
    with transaction.atomic():
        report = _lock_own(user, report)
        values = {**working_content(report), **plain_data(data)}
        cleaned, errors = clean_feedback_data(values, require_all=True)
        if errors:
            raise FeedbackError("Some answers need attention.", errors)
        _apply(report, cleaned)
        now = timezone.now()
        if report.is_draft:
            report.status = Status.NEW
            report.submitted_at = now
        report.revision += 1
        report.revised_at = now
        report.draft_content = {}
        report.draft_saved_at = None
        report.save()
        content = report_content(report)
        content["notes"] = [
            {"seconds": n.seconds, "frame": n.frame, "frame_out": n.frame_out, "drawing": n.drawing, "text": n.text,
             "output_id": n.output_id, "author_id": n.author_id}
            for n in report.notes.order_by("seconds", "id")
        ]
        content["attachments"] = list(report.attachments.values_list("asset_id", flat=True))
        FeedbackRevision.objects.create(report=report, number=report.revision, content=content, submitted_by=user)
        transaction.on_commit(results_cache.invalidate)  # the results dashboard's cached numbers are out of date
    return report


def _note_limit(report: FeedbackReport, output: JobOutput | None) -> float:
    """The latest time a note may have: the chosen output's duration, else the longest video of the run (inputs or
    outputs); 0 when the run has no video of known length (a note then belongs to the run as a whole)."""
    if output is not None and output.asset.duration_seconds:
        return float(output.asset.duration_seconds)
    durations = [
        *JobOutput.objects.filter(job_id=report.job_id, asset__kind=Asset.Kind.VIDEO).values_list(
            "asset__duration_seconds", flat=True
        ),
        *JobInput.objects.filter(job_id=report.job_id, asset__kind=Asset.Kind.VIDEO).values_list(
            "asset__duration_seconds", flat=True
        ),
    ]
    return float(max((d for d in durations if d), default=0))


def _note_output(report: FeedbackReport, output_id) -> JobOutput | None:
    output_pk = parse_id(output_id)
    if output_pk is None:
        return None
    return (
        JobOutput.objects.filter(job_id=report.job_id, pk=output_pk, asset__kind=Asset.Kind.VIDEO)
        .select_related("asset")
        .first()
    )


def _clean_frame(value, name: str, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
        if number < 0 or number > 10_000_000:
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = "A frame is a whole number, 0 or more."
        return None
    return number


def _clean_note_time(seconds, frame, frame_out, rate: float | None, errors: dict):
    """(seconds, frame, frame_out) from a frame (preferred: exact) or a time in seconds (older forms)."""
    frame = _clean_frame(frame, "frame", errors)
    frame_out = _clean_frame(frame_out, "frame_out", errors)
    if frame is not None:
        seconds = frame / rate if rate else 0.0
    else:
        try:
            seconds = float(seconds)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["seconds"] = "Pause the player where the note belongs (a time of 0 or more seconds)."
            return None, None, None
        frame = math.floor((seconds + 0.0005) * rate) if rate else None  # times come to the millisecond
    if frame_out is not None and (frame is None or frame_out < frame):
        errors["frame_out"] = "The out point must be at or after the in point."
    elif frame_out == frame:
        frame_out = None
    return seconds, frame, frame_out


def _lock_for_note(user: User, report: FeedbackReport) -> FeedbackReport:
    """The report, locked: its author writes notes on it; staff write notes on a submitted report."""
    if user is not None and user.is_authenticated and user.is_studio_staff:
        locked = FeedbackReport.objects.select_for_update().filter(pk=report.pk).first()
        if locked is None or locked.is_draft:
            raise FeedbackError("Staff can add notes once the feedback is submitted.")
        return locked
    return _lock_own(user, report)


def feedback_note_add(
    *, user: User, report: FeedbackReport, text: str, seconds=None, output=None, frame=None, frame_out=None,
    drawing=None,
) -> FeedbackNote:
    """A note on a video output of the run: at a frame (or a time), or over an in-out range of frames, with an
    optional drawing on the frame. Within the video's length. The report's author or staff may add one."""
    from assets.media import exact_frame_rate
    from beta.review.drawing import DrawingError, clean_drawing

    errors = {}
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        errors["text"] = "Write the note."
    elif len(text) > NOTE_MAX:
        errors["text"] = f"Keep a note under {NOTE_MAX:,} characters."
    output_id = getattr(output, "pk", output)
    output = None if output_id in (None, "") else _note_output(report, output_id)
    if output_id not in (None, "") and output is None:
        errors["output"] = "Choose a video output of this run."
    num, den = exact_frame_rate(output.asset.fps if output is not None else None)
    seconds, frame, frame_out = _clean_note_time(seconds, frame, frame_out, num / den if num else None, errors)
    try:
        drawing = clean_drawing(drawing)
    except DrawingError as exc:
        errors["drawing"] = str(exc)
    if seconds is not None and "frame" not in errors:
        limit = _note_limit(report, output)
        last = (frame_out if frame_out is not None else frame) if num else None
        end = last / (num / den) if last is not None else seconds
        if end > (limit + 1 if limit else 0):  # a second of slack: a player can run a frame past the probe
            errors["seconds"] = (
                "That time is past the end of the video." if limit else "This run has no video: leave the time at 0."
            )
    if errors:
        raise FeedbackError("The note was not added.", errors)
    with transaction.atomic():
        report = _lock_for_note(user, report)
        return FeedbackNote.objects.create(
            report=report, output=output, author=user, seconds=round(seconds, 3), frame=frame, frame_out=frame_out,
            drawing=drawing, text=text,
        )


def feedback_note_reply(*, user: User, note: FeedbackNote, body: str, internal: bool = False) -> FeedbackNoteReply:
    """A reply in a note's thread. Staff may mark theirs internal (partners never see it); partners of the note's
    studio (not viewers) reply while their beta window is open."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise FeedbackError("The reply was not added.", {"body": "Write the reply."})
    if len(body) > COMMENT_MAX:
        raise FeedbackError("The reply was not added.", {"body": f"Keep a reply under {COMMENT_MAX:,} characters."})
    is_staff = user is not None and user.is_authenticated and user.is_studio_staff
    if not is_staff:
        _require_filer(user, note.report.organization_id)
        if internal:
            raise PermissionDeniedError("Only studio staff can write internal comments.")
    with transaction.atomic():
        reply = FeedbackNoteReply.objects.create(
            note=note, author=user, body=body, internal=bool(internal and is_staff)
        )
        events.publish("review.note_replied", organization_id=note.report.organization_id,
                       data={"note_id": note.pk, "reply_id": reply.pk, "report_id": note.report_id})
    return reply


def feedback_note_delete(*, user: User, note: FeedbackNote) -> None:
    """The note's author deletes it (a report's author, or staff for their own notes)."""
    with transaction.atomic():
        _lock_for_note(user, note.report)
        if note.author_id not in (None, user.pk):
            raise FeedbackError("Only the person who wrote this note can delete it.")
        note.delete()


def feedback_attachment_add(*, user: User, report: FeedbackReport, asset: Asset) -> FeedbackAttachment:
    """Attach a file the partner uploaded through the assets upload (an asset of the same studio)."""
    if asset.organization_id != report.organization_id:
        raise FeedbackError("Attach files of your own studio.", {"attachments": "Attach files of your own studio."})
    if asset.status in (Asset.Status.DELETED, Asset.Status.REJECTED):
        raise FeedbackError("That file was rejected or deleted.", {"attachments": "That file was rejected or deleted."})
    with transaction.atomic():
        report = _lock_own(user, report)
        attachment, _ = FeedbackAttachment.objects.get_or_create(report=report, asset=asset)
    return attachment


def feedback_attachment_remove(*, user: User, attachment: FeedbackAttachment) -> None:
    """Detach a file from the report; the file itself stays in the studio's assets."""
    with transaction.atomic():
        _lock_own(user, attachment.report)
        attachment.delete()


# --- Staff ------------------------------------------------------------------------------------------------------------
def _clean_body(body) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise FeedbackError("Write something first.", {"body": "Write something first."})
    if len(body) > COMMENT_MAX:
        raise FeedbackError("Too long.", {"body": f"Keep it under {COMMENT_MAX:,} characters."})
    return body


def feedback_comment_add(*, user: User, report: FeedbackReport, body: str) -> FeedbackComment:
    """An internal comment: staff only, never shown to the studio."""
    _require_staff(user)
    body = _clean_body(body)
    return FeedbackComment.objects.create(report=report, author=user, kind=FeedbackComment.Kind.INTERNAL, body=body)


def feedback_reply(*, user: User, report: FeedbackReport, body: str) -> FeedbackComment:
    """A reply the studio reads on the report; its author is told (beta.notifications) and the studio's webhooks."""
    _require_staff(user)
    body = _clean_body(body)
    with transaction.atomic():
        report = FeedbackReport.objects.select_for_update().get(pk=report.pk)  # the status as it is now
        if report.is_draft:
            raise FeedbackError("This feedback has not been submitted yet.", {"body": "Not submitted yet."})
        reply = FeedbackComment.objects.create(report=report, author=user, kind=FeedbackComment.Kind.REPLY, body=body)
        events.publish(
            "feedback.replied",
            organization_id=report.organization_id,
            data={
                "report_id": report.pk,
                "job_id": report.job_id,
                "reply_id": reply.pk,
                "tool": report.tool_slug,
                "tool_version": report.tool_version,
                "body": body,
                "url": settings.SITE_URL + reverse("beta:feedback-detail", args=[report.pk]),
            },
        )
    return reply


def _clean_tag(name) -> str:
    name = " ".join(str(name or "").split()).lower()
    if len(name) > TAG_MAX:
        raise FeedbackError("Tag too long.", {"tags": f"Keep tags under {TAG_MAX} characters."})
    return name


def _triage_check(
    *, status: str | None, assignee: User | None, add_tags: Iterable, remove_tags: Iterable
) -> tuple[list[str], list[str]]:
    """Check a triage request; return the cleaned tags to add and remove. Every problem is reported at once."""
    errors = {}
    if status not in (None, "") and status not in TRIAGE_STATUSES:
        errors["status"] = "Choose new, triaged, actioned or closed."
    if assignee is not None and not (assignee.is_active and assignee.is_studio_staff):
        errors["assignee"] = "Assign to a member of studio staff."
    add: list[str] = []
    remove: list[str] = []
    try:
        add = sorted({t for t in (_clean_tag(n) for n in add_tags) if t})
        remove = sorted({t for t in (_clean_tag(n) for n in remove_tags) if t})
    except FeedbackError as exc:
        errors.update(exc.errors)
    if errors:
        raise FeedbackError("Nothing was changed.", errors)
    return add, remove


def _report_ids(reports: Iterable) -> list:
    if hasattr(reports, "values_list"):
        return list(reports.values_list("pk", flat=True))
    return [getattr(r, "pk", r) for r in reports]


def _triage_fields(rows, *, status: str | None, assignee: User | None, unassign: bool, now) -> dict:
    """The field changes of a triage (and the first-triaged time, set once)."""
    changes: dict = {}
    if status:
        changes["status"] = status
        if status != Status.NEW:
            rows.filter(triaged_at__isnull=True).update(triaged_at=now)
    if assignee is not None:
        changes["assignee"] = assignee
    elif unassign:
        changes["assignee"] = None
    return changes


def _triage_tags(ids: list, *, add: list[str], remove: list[str]) -> None:
    through = FeedbackReport.tags.through
    if add:
        for name in add:
            FeedbackTag.objects.get_or_create(name=name)
        tag_ids = list(FeedbackTag.objects.filter(name__in=add).values_list("pk", flat=True))
        through.objects.bulk_create(
            [through(feedbackreport_id=r, feedbacktag_id=t) for r in ids for t in tag_ids], ignore_conflicts=True
        )
    if remove:
        through.objects.filter(feedbackreport_id__in=ids, feedbacktag__name__in=remove).delete()


def feedback_triage(
    *,
    user: User,
    reports: Iterable,
    status: str | None = None,
    assignee: User | None = None,
    add_tags: Iterable = (),
    remove_tags: Iterable = (),
    unassign: bool = False,
) -> int:
    """Bulk triage of submitted reports: change status, assign to a staff member (or `unassign`), add or remove
    tags. Drafts are never touched. Returns the number of reports changed."""
    _require_staff(user)
    add, remove = _triage_check(status=status, assignee=assignee, add_tags=add_tags, remove_tags=remove_tags)
    ids = _report_ids(reports)
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            FeedbackReport.objects.select_for_update()
            .filter(pk__in=ids)
            .exclude(status=Status.DRAFT)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        rows = FeedbackReport.objects.filter(pk__in=ids)
        changes = _triage_fields(rows, status=status, assignee=assignee, unassign=unassign, now=now)
        if changes or add or remove:
            rows.update(**changes, updated_at=now)
        _triage_tags(ids, add=add, remove=remove)
    return len(ids)


def feedback_replies_mark_read(*, user: User, report: FeedbackReport) -> None:
    """The person has seen the report's replies as of now (the partner home stops listing them as unread)."""
    FeedbackReadMark.objects.update_or_create(user=user, report=report, defaults={"read_at": timezone.now()})
