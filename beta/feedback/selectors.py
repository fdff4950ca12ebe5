"""Reads for feedback: a partner's reports, the staff inbox (the one place its filters live: the inbox page and the
exports both call `feedback_inbox`), a report's pieces for the partner (replies only) and for staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from beta.models import (
    FeedbackAttachment,
    FeedbackCategory,
    FeedbackComment,
    FeedbackNote,
    FeedbackNoteReply,
    FeedbackReadMark,
    FeedbackReport,
    FeedbackRevision,
    Job,
)
from portal.cohorts import cohort_window
from portal.models import Membership

Status = FeedbackReport.Status
TRUE = {"1", "yes", "true", "on"}
FALSE = {"0", "no", "false", "off"}


def partner_visible(reports: QuerySet, user) -> QuerySet:
    """A draft is its author's alone: teammates and staff see a report once it is submitted."""
    return reports.filter(Q(author=user) | ~Q(status=Status.DRAFT))


def feedback_for_user(user) -> QuerySet[FeedbackReport]:
    """The reports of the person's studio (staff: every studio's), newest first, with their reply counts."""
    replies = (
        FeedbackComment.objects.filter(report=OuterRef("pk"), kind=FeedbackComment.Kind.REPLY)
        .order_by()
        .values("report")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        partner_visible(FeedbackReport.objects.for_user(user), user)
        .select_related("job", "author", "organization")
        .annotate(reply_count=Coalesce(Subquery(replies, output_field=IntegerField()), Value(0)))
        .order_by("-updated_at", "-id")
    )


def unread_replies(user, *, limit: int = 5) -> list[dict]:
    """Reports of the person's studio with staff replies they have not read (since they last opened the report),
    newest reply first: [{"report_id", "tool_slug", "job_id", "count", "latest"}]. One query."""
    read_at = FeedbackReadMark.objects.filter(user=user, report=OuterRef("report_id")).values("read_at")[:1]
    return list(
        FeedbackComment.objects.replies()
        .filter(report__in=partner_visible(FeedbackReport.objects.for_user(user), user).values("pk"))
        .annotate(read_at=Subquery(read_at))
        .filter(Q(read_at__isnull=True) | Q(created_at__gt=F("read_at")))
        .order_by()
        .values("report_id", tool_slug=F("report__tool_slug"), job_id=F("report__job_id"))
        .annotate(count=Count("pk"), latest=Max("created_at"))
        .order_by("-latest")[:limit]
    )


def studio_has_feedback(organization) -> bool:
    return FeedbackReport.objects.filter(organization=organization).submitted().exists()


def feedback_slot(user, job: Job) -> dict:
    """What the job page's feedback box shows to this person."""
    if user.is_studio_staff:
        reports = list(
            FeedbackReport.objects.for_user(user).submitted().filter(job=job).select_related("author").order_by("id")
        )
        return {"staff": True, "reports": reports}
    membership = (
        Membership.objects.select_related("organization__cohort")
        .filter(user=user, organization_id=job.organization_id)
        .first()
    )
    report = FeedbackReport.objects.for_user(user).filter(job=job, author=user).first()
    return {
        "staff": False,
        "finished": job.status in Job.FINISHED,
        "can_give": membership is not None and membership.role != Membership.Role.VIEWER,
        "closed": membership is not None and cohort_window(membership.organization).read_only,
        "report": report,
    }


# --- The inbox --------------------------------------------------------------------------------------------------------
@dataclass
class InboxFilters:
    """The inbox's filters, cleaned from a dict or QueryDict; values that make no sense are dropped."""

    tool: str = ""
    version: str = ""
    studio: int | None = None
    cohort: int | None = None
    rating: int | None = None
    category: str = ""
    status: str = ""
    tag: str = ""
    assignee: str = ""  # a staff user's id, "me" or "none"
    has_notes: bool | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    given: dict = field(default_factory=dict)  # the cleaned values as strings, for links and forms

    @property
    def active(self) -> bool:
        return bool(self.given)


def _int(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def inbox_filters(params) -> InboxFilters:
    params = params or {}

    def get(name: str) -> str:
        return str(params.get(name) or "").strip()[:200]

    f = InboxFilters()
    f.tool = get("tool")[:60]
    f.version = get("version")[:40]
    f.studio = _int(get("studio"))
    f.cohort = _int(get("cohort"))
    rating = _int(get("rating"))
    f.rating = rating if rating and 1 <= rating <= 5 else None
    f.category = get("category") if get("category") in FeedbackCategory.Category.values else ""
    f.status = get("status") if get("status") in Status.values and get("status") != Status.DRAFT else ""
    f.tag = get("tag")[:40]
    assignee = get("assignee")
    f.assignee = assignee if assignee in ("me", "none") or _int(assignee) else ""
    notes = get("has_notes").lower()
    f.has_notes = True if notes in TRUE else False if notes in FALSE else None
    f.date_from = _date(get("date_from"))
    f.date_to = _date(get("date_to"))
    f.q = get("q")
    f.given = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in (
            ("tool", f.tool), ("version", f.version), ("studio", f.studio), ("cohort", f.cohort),
            ("rating", f.rating), ("category", f.category), ("status", f.status), ("tag", f.tag),
            ("assignee", f.assignee), ("has_notes", {True: "yes", False: "no"}.get(f.has_notes)),
            ("date_from", f.date_from), ("date_to", f.date_to), ("q", f.q),
        )
        if v not in (None, "")
    }  # fmt: skip
    return f


def _search(reports: QuerySet, q: str) -> QuerySet:
    """Full text over the report's text, its timecoded notes, the replies on those notes and staff's replies to the
    studio: PostgreSQL's (stemmed, web-search syntax, each table's own GIN index) on PostgreSQL; a plain substring
    match elsewhere. The ids of the reports found are one UNION subquery, so each arm can use its index."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        query = SearchQuery(q, config="english", search_type="websearch")

        def hits(model, column: str, key: str, **extra) -> QuerySet:
            return (
                model.objects.annotate(search=SearchVector(column, config="english"))
                .filter(search=query, **extra)
                .order_by()
                .values_list(key, flat=True)
            )

        found = hits(FeedbackReport, "text", "pk").union(
            hits(FeedbackNote, "text", "report_id"),
            hits(FeedbackNoteReply, "body", "note__report_id"),
            hits(FeedbackComment, "body", "report_id", kind=FeedbackComment.Kind.REPLY),
        )
        return reports.filter(pk__in=found)
    return reports.filter(
        Q(text__icontains=q)
        | Exists(FeedbackNote.objects.filter(report=OuterRef("pk"), text__icontains=q))
        | Exists(FeedbackNoteReply.objects.filter(note__report=OuterRef("pk"), body__icontains=q))
        | Exists(FeedbackComment.objects.filter(report=OuterRef("pk"), kind=FeedbackComment.Kind.REPLY,
                                                body__icontains=q))
    )


def feedback_inbox(*, user, params=None) -> QuerySet[FeedbackReport]:
    """Submitted reports staff may see, filtered by `params` (see `inbox_filters`), newest submission first.

    Rows carry their studio, cohort, author, assignee, tags, categories and counts of notes, replies and internal
    comments, fetched in a fixed number of queries whatever the number of rows."""
    if user is None or not user.is_authenticated or not user.is_studio_staff:
        return FeedbackReport.objects.none()
    f = params if isinstance(params, InboxFilters) else inbox_filters(params)
    reports = FeedbackReport.objects.for_user(user).submitted()
    reports = _filter_by_fields(reports, f)
    reports = _filter_by_related(reports, f, user)
    if f.q:
        reports = _search(reports, f.q)
    return _with_inbox_columns(reports).order_by("-submitted_at", "-id")


#: inbox filter -> the report field it must equal
_FIELD_FILTERS = {
    "tool": "tool_slug",
    "version": "tool_version",
    "studio": "organization_id",
    "cohort": "organization__cohort_id",
    "rating": "overall_rating",
    "status": "status",
    "date_from": "submitted_at__date__gte",
    "date_to": "submitted_at__date__lte",
}


def _filter_by_fields(reports: QuerySet[FeedbackReport], f: InboxFilters) -> QuerySet[FeedbackReport]:
    for name, lookup in _FIELD_FILTERS.items():
        value = getattr(f, name)
        if value:
            reports = reports.filter(**{lookup: value})
    return reports


def _filter_by_related(reports: QuerySet[FeedbackReport], f: InboxFilters, user) -> QuerySet[FeedbackReport]:
    """Category, tag, assignee and notes: filters through other tables."""
    if f.category:
        reports = reports.filter(Exists(FeedbackCategory.objects.filter(report=OuterRef("pk"), category=f.category)))
    if f.tag:
        reports = reports.filter(
            Exists(
                FeedbackReport.tags.through.objects.filter(
                    feedbackreport=OuterRef("pk"), feedbacktag__name=f.tag.lower()
                )
            )
        )
    if f.assignee == "me":
        reports = reports.filter(assignee=user)
    elif f.assignee == "none":
        reports = reports.filter(assignee__isnull=True)
    elif f.assignee:
        reports = reports.filter(assignee_id=int(f.assignee))
    if f.has_notes is not None:
        has = Exists(FeedbackNote.objects.filter(report=OuterRef("pk")))
        reports = reports.filter(has if f.has_notes else ~has)
    return reports


def _with_inbox_columns(reports: QuerySet[FeedbackReport]) -> QuerySet[FeedbackReport]:
    """Studio, cohort, people, tags, categories and counts of notes, replies and comments, in fixed queries."""
    return (
        reports.select_related("organization", "organization__cohort", "author", "assignee", "job")
        .prefetch_related("tags", "categories")
        .annotate(
            note_count=_count(FeedbackNote.objects.filter(report=OuterRef("pk"))),
            reply_count=_count(FeedbackComment.objects.filter(report=OuterRef("pk"), kind="reply")),
            comment_count=_count(FeedbackComment.objects.filter(report=OuterRef("pk"), kind="internal")),
        )
    )


def _count(rows: QuerySet):
    counted = rows.order_by().values("report").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def inbox_versions() -> list[tuple[str, str]]:
    """(tool, version) pairs that have submitted feedback, for the inbox's version filter."""
    return list(
        FeedbackReport.objects.submitted()
        .order_by("tool_slug", "tool_version")
        .values_list("tool_slug", "tool_version")
        .distinct()
    )


# --- One report -------------------------------------------------------------------------------------------------------
def report_notes(report: FeedbackReport) -> list[FeedbackNote]:
    return list(report.notes.select_related("output", "output__asset").order_by("seconds", "id"))


def report_attachments(report: FeedbackReport) -> list[FeedbackAttachment]:
    return list(report.attachments.select_related("asset").order_by("id"))


def report_replies(report: FeedbackReport) -> list[FeedbackComment]:
    """What the studio may read of staff's words: replies, never internal comments."""
    return list(FeedbackComment.objects.filter(report=report).replies().select_related("author").order_by("created_at"))


def report_comments_for_staff(report: FeedbackReport) -> list[FeedbackComment]:
    return list(report.comments.select_related("author").order_by("created_at", "id"))


def report_revisions(report: FeedbackReport) -> list[FeedbackRevision]:
    return list(report.revisions.select_related("submitted_by").order_by("-number"))


def video_outputs(job: Job) -> list:
    """The run's video outputs, for the player that timecoded notes are written against."""
    return list(
        job.job_outputs.filter(asset__kind="video")
        .select_related("asset")
        .prefetch_related(Prefetch("asset__renditions"))
        .order_by("id")
    )


__all__ = [
    "InboxFilters",
    "feedback_for_user",
    "feedback_inbox",
    "feedback_slot",
    "inbox_filters",
    "inbox_versions",
    "report_attachments",
    "report_comments_for_staff",
    "report_notes",
    "report_replies",
    "report_revisions",
    "video_outputs",
]
