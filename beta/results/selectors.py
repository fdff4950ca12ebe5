"""The results dashboard's numbers, aggregated in SQL so the number of queries does not grow with the data.

Methods (also printed under the dashboard and in the report):
- *Success rate*: succeeded / (succeeded + failed) among finished runs; canceled runs are left out (the partner
  stopped them, the tool did not fail).
- *Run time p50/p95*: of succeeded runs, `finished_at - started_at`, by the **nearest-rank** method: the value at
  rank ceil(p/100 * n) of the sorted durations (always an observed duration, never interpolated).
- *NPS*: % promoters (9-10) minus % detractors (0-6) of the answers to NPS questions; 95% interval by the normal
  approximation of the difference of two proportions: NPS ± 1.96 * sqrt((p + d - (p - d)^2) / n), clipped to ±100.
- *Win rate*: a side's wins plus half its ties ("same"), over every vote, with a 95% Wilson score interval (the
  blind comparisons' own definition); the two sides add up to 100%.
The statistics themselves (Wilson, NPS, nearest rank) are `beta.stats`, shared with the surveys and comparisons.
- *Surveys*: by cohort only (a survey is its own time window, and is not about one tool).
- *Hours saved*: the sum of the partners' estimates, and that sum divided by the number of runs with an estimate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from beta import stats
from beta.models import (
    ComparisonVote,
    FeedbackCategory,
    FeedbackReport,
    Job,
    Question,
    Survey,
    SurveyAnswer,
)
from beta.results import numbers
from portal.models import Cohort, Organization

RATINGS = (1, 2, 3, 4, 5)
RATING_FIELDS = {"overall": "overall_rating", "quality": "quality_rating", "usefulness": "usefulness_rating"}
CATEGORY_LABELS = dict(FeedbackCategory.Category.choices)
FIT_LABELS = dict(FeedbackReport.ProductionFit.choices)


# --- Filters ----------------------------------------------------------------------------------------------------------
def parse_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _parse_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; the same names in its URL, its exports' URLs and a report's options."""

    cohort_id: int | None = None
    tool: str = ""
    version: str = ""
    date_from: date | None = None
    date_to: date | None = None
    anonymise: bool = False

    @classmethod
    def from_params(cls, params) -> Filters:
        return cls(
            cohort_id=_parse_int(params.get("cohort")),
            tool=(params.get("tool") or "").strip()[:60],
            version=(params.get("version") or "").strip()[:40],
            date_from=parse_date(params.get("date_from")),
            date_to=parse_date(params.get("date_to")),
            anonymise=str(params.get("anonymise", "")).lower() in ("1", "true", "on", "yes"),
        )

    def as_params(self, *, anonymise: bool | None = None) -> dict:
        params = {
            "cohort": self.cohort_id or "",
            "tool": self.tool,
            "version": self.version,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "anonymise": "1" if (self.anonymise if anonymise is None else anonymise) else "",
        }
        return {k: v for k, v in params.items() if v}

    def query(self, **override) -> str:
        return urlencode(self.as_params(**override))

    @property
    def start(self) -> datetime | None:
        if self.date_from is None:
            return None
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime | None:
        """Exclusive: the start of the day after `date_to`."""
        if self.date_to is None:
            return None
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    @property
    def is_filtered(self) -> bool:
        return bool(self.cohort_id or self.tool or self.version or self.date_from or self.date_to)

    def _dates(self, qs: QuerySet, field_name: str) -> QuerySet:
        if self.start:
            qs = qs.filter(**{f"{field_name}__gte": self.start})
        if self.end:
            qs = qs.filter(**{f"{field_name}__lt": self.end})
        return qs

    def _runs(self, qs: QuerySet, date_field: str) -> QuerySet:
        """Cohort, tool, version and dates: what jobs and feedback (which records its run's tool) share."""
        if self.cohort_id:
            qs = qs.filter(organization__cohort_id=self.cohort_id)
        if self.tool:
            qs = qs.filter(tool_slug=self.tool)
        if self.version:
            qs = qs.filter(tool_version=self.version)
        return self._dates(qs, date_field)

    def jobs(self, qs: QuerySet | None = None) -> QuerySet:
        return self._runs(Job.objects.all() if qs is None else qs, "queued_at")

    def feedback(self, qs: QuerySet | None = None) -> QuerySet:
        return self._runs(FeedbackReport.objects.submitted() if qs is None else qs, "submitted_at")

    def answers(self, qs: QuerySet | None = None) -> QuerySet:
        """Submitted survey answers, by cohort only (a survey is its own time window and is not about one tool)."""
        qs = SurveyAnswer.objects.filter(response__submitted_at__isnull=False) if qs is None else qs
        if self.cohort_id:
            qs = qs.filter(response__organization__cohort_id=self.cohort_id)
        return qs

    def votes(self, qs: QuerySet | None = None) -> QuerySet:
        qs = ComparisonVote.objects.filter(voted_at__isnull=False).exclude(choice="") if qs is None else qs
        if self.cohort_id:
            qs = qs.filter(comparison__organization__cohort_id=self.cohort_id)
        if self.tool:
            qs = qs.filter(Q(comparison__output_a__job__tool_slug=self.tool)
                           | Q(comparison__output_b__job__tool_slug=self.tool))
        if self.version:
            qs = qs.filter(Q(comparison__output_a__job__tool_version=self.version)
                           | Q(comparison__output_b__job__tool_version=self.version))
        return self._dates(qs, "voted_at")


# --- Studio names -----------------------------------------------------------------------------------------------------
def letter_label(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: spreadsheet-style, so there is a name for any number of studios."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def studio_labels(*, anonymise: bool) -> dict[int, str]:
    """Each studio's name on screen: its own, or "Studio A", "B"... in the order studios joined (stable across
    filters, pages, exports and reports)."""
    rows = Organization.objects.order_by("created_at", "id").values_list("id", "name")
    if anonymise:
        return {pk: f"Studio {letter_label(i)}" for i, (pk, _) in enumerate(rows)}
    return dict(rows)


# --- Links to the feedback behind a number ----------------------------------------------------------------------------
#: the dashboard's filters that the feedback inbox shares (same names, same meaning)
INBOX_PARAMS = ("cohort", "tool", "version", "date_from", "date_to")


def inbox_url(filters: Filters, **extra) -> str:
    """The feedback inbox filtered to the reports behind a number: the page's filters plus the number's own
    (tool, version, studio, rating, category)."""
    try:
        base = reverse("beta:feedback-inbox")
    except NoReverseMatch:
        return ""
    params = {k: v for k, v in filters.as_params(anonymise=False).items() if k in INBOX_PARAMS}
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return f"{base}?{urlencode(params)}" if params else base


# --- The dashboard ----------------------------------------------------------------------------------------------------
def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _feedback_aggregates() -> dict:
    aggregates = {
        "reports": Count("id"),
        "avg_overall": Avg("overall_rating"),
        "avg_quality": Avg("quality_rating"),
        "avg_usefulness": Avg("usefulness_rating"),
        "hours_sum": Sum("hours_saved"),
        "hours_reports": Count("id", filter=Q(hours_saved__isnull=False)),
        "hours_jobs": Count("job", distinct=True, filter=Q(hours_saved__isnull=False)),
    }
    for name, column in RATING_FIELDS.items():
        for value in RATINGS:
            aggregates[f"{name}_{value}"] = Count("id", filter=Q(**{column: value}))
    for value in FIT_LABELS:
        aggregates[f"fit_{value}"] = Count("id", filter=Q(production_fit=value))
    return aggregates


def _job_aggregates() -> dict:
    return {
        "jobs": Count("id"),
        "succeeded": Count("id", filter=Q(status=Job.Status.SUCCEEDED)),
        "failed": Count("id", filter=Q(status=Job.Status.FAILED)),
        "canceled": Count("id", filter=Q(status=Job.Status.CANCELED)),
    }


@dataclass
class Row:
    """One line of a table: a tool version, a cohort, a studio or a week, with its jobs and feedback."""

    key: tuple
    label: str
    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    #: run times of succeeded runs (seconds): filled only where they are read into Python (SQLite); on PostgreSQL the
    #: percentiles come from the database and only `timed_runs`, `p50` and `p95` are set
    durations: list[float] = field(default_factory=list, repr=False)
    timed_runs: int = 0
    p50: float | None = None
    p95: float | None = None
    reports: int = 0
    avg_overall: float | None = None
    avg_quality: float | None = None
    avg_usefulness: float | None = None
    ratings: dict[str, list[int]] = field(default_factory=dict)
    fit: dict[str, int] = field(default_factory=dict)
    hours_sum: float = 0.0
    hours_reports: int = 0
    hours_jobs: int = 0
    categories: list[dict] = field(default_factory=list)
    link: str = ""
    links: dict[str, str] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        return _rate(self.succeeded, self.succeeded + self.failed)

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    def set_run_times(self, timed_runs: int, p50: float | None, p95: float | None) -> None:
        self.timed_runs, self.p50, self.p95 = timed_runs, p50, p95

    def run_times_from_durations(self) -> None:
        """Nearest-rank p50/p95 of `durations`, sorted once (the Python fallback for databases without
        percentile_disc)."""
        ordered = sorted(self.durations)
        self.set_run_times(len(ordered), stats.percentile(ordered, 50), stats.percentile(ordered, 95))

    @property
    def hours_per_job(self) -> float | None:
        return self.hours_sum / self.hours_jobs if self.hours_jobs else None

    @property
    def success_text(self) -> str:
        return _percent(self.success_rate)

    @property
    def p50_text(self) -> str:
        return _seconds(self.p50)

    @property
    def p95_text(self) -> str:
        return _seconds(self.p95)

    @property
    def rating_cells(self) -> list[tuple[int, int, str]]:
        """(rating, count, link to those reports) for the overall rating, 1 to 5."""
        counts = self.ratings.get("overall", [0] * len(RATINGS))
        return [(v, n, self.links.get(f"overall_{v}", "")) for v, n in zip(RATINGS, counts, strict=True)]

    def add_feedback(self, values: dict) -> None:
        self.reports = values["reports"]
        self.avg_overall = values["avg_overall"]
        self.avg_quality = values["avg_quality"]
        self.avg_usefulness = values["avg_usefulness"]
        self.hours_sum = float(values["hours_sum"] or 0)
        self.hours_reports = values["hours_reports"]
        self.hours_jobs = values["hours_jobs"]
        self.ratings = {name: [values[f"{name}_{v}"] for v in RATINGS] for name in RATING_FIELDS}
        self.fit = {value: values[f"fit_{value}"] for value in FIT_LABELS}

    def add_jobs(self, values: dict) -> None:
        for key in ("jobs", "succeeded", "failed", "canceled"):
            setattr(self, key, values[key])


def _rows(job_values, feedback_values, key_fields: tuple[str, ...], label) -> dict[tuple, Row]:
    rows: dict[tuple, Row] = {}
    for values in job_values:
        key = tuple(values[f] for f in key_fields)
        rows.setdefault(key, Row(key=key, label=label(key))).add_jobs(values)
    for values in feedback_values:
        key = tuple(values[f] for f in key_fields)
        rows.setdefault(key, Row(key=key, label=label(key))).add_feedback(values)
    return rows


def tool_rows(filters: Filters) -> list[Row]:
    """Per tool and version: jobs, success, run time, ratings, fit, hours saved and issue categories (4 queries)."""
    from beta import tools as catalogue

    names = {tool.slug: tool.name for tool in catalogue.all_tools()}
    fields = ("tool_slug", "tool_version")
    jobs = filters.jobs().values(*fields).annotate(**_job_aggregates()).order_by(*fields)
    feedback = filters.feedback().values(*fields).annotate(**_feedback_aggregates()).order_by(*fields)
    rows = _rows(jobs, feedback, fields, lambda key: f"{names.get(key[0], key[0])} {key[1]}")
    # The run times themselves (one number per run): subtracted in SQL, which is an order of magnitude faster than
    # reading two time-zoned timestamps per row; the percentiles are then taken here (nearest rank).
    durations = (
        filters.jobs()
        .filter(status=Job.Status.SUCCEEDED, started_at__isnull=False, finished_at__isnull=False)
        .annotate(run_time=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()))
        .values_list("tool_slug", "tool_version", "run_time")
    )
    for slug, version, run_time in durations.iterator(chunk_size=5000):
        row = rows.get((slug, version))
        if row is not None:
            row.durations.append(run_time.total_seconds())
    for row in rows.values():
        row.run_times_from_durations()
    add_categories(filters, rows)
    add_tool_links(filters, rows)
    return [rows[key] for key in sorted(rows)]


def add_categories(filters: Filters, rows: dict[tuple, Row]) -> None:
    """Each tool version's issue categories, most ticked first (one query: the filtered reports joined to their
    categories once, not the categories filtered by a subquery of report ids, which read the reports twice)."""
    categories = (
        filters.feedback().filter(categories__isnull=False)
        .values("tool_slug", "tool_version", category=F("categories__category"))
        .annotate(n=Count("categories__id"))
        .order_by("-n", "category")
    )
    for values in categories:
        row = rows.get((values["tool_slug"], values["tool_version"]))
        if row is not None:
            row.categories.append({
                "value": values["category"], "label": CATEGORY_LABELS.get(values["category"], values["category"]),
                "n": values["n"],
                "link": inbox_url(filters, tool=row.key[0], version=row.key[1], category=values["category"]),
            })


def add_tool_links(filters: Filters, rows: dict[tuple, Row]) -> None:
    for row in rows.values():
        row.link = inbox_url(filters, tool=row.key[0], version=row.key[1])
        row.links = {
            f"overall_{v}": inbox_url(filters, tool=row.key[0], version=row.key[1], rating=v) for v in RATINGS
        }


def cohort_rows(filters: Filters) -> list[Row]:
    fields = ("organization__cohort_id",)
    names = dict(Cohort.objects.values_list("id", "name"))
    jobs = filters.jobs().values(*fields).annotate(**_job_aggregates()).order_by(*fields)
    feedback = filters.feedback().values(*fields).annotate(**_feedback_aggregates()).order_by(*fields)
    rows = _rows(jobs, feedback, fields, lambda key: names.get(key[0], "No cohort"))
    return cohort_links(filters, rows)


def cohort_links(filters: Filters, rows: dict[tuple, Row]) -> list[Row]:
    for row in rows.values():
        row.link = inbox_url(filters, cohort=row.key[0])
    return sorted(rows.values(), key=lambda r: r.label)


def studio_rows(filters: Filters, labels: dict[int, str]) -> list[Row]:
    fields = ("organization_id",)
    jobs = filters.jobs().values(*fields).annotate(**_job_aggregates()).order_by(*fields)
    feedback = filters.feedback().values(*fields).annotate(**_feedback_aggregates()).order_by(*fields)
    rows = _rows(jobs, feedback, fields, lambda key: labels.get(key[0], "Studio"))
    return studio_links(filters, rows)


def studio_links(filters: Filters, rows: dict[tuple, Row]) -> list[Row]:
    for row in rows.values():
        row.link = inbox_url(filters, studio=row.key[0])
    return sorted(rows.values(), key=lambda r: r.label)


def weekly_rows(filters: Filters) -> list[Row]:
    """Weeks (Monday first, in the portal's time zone) with their runs and their feedback."""
    jobs = (
        filters.jobs().annotate(week=TruncWeek("queued_at")).values("week").annotate(**_job_aggregates())
        .order_by("week")
    )
    feedback = (
        filters.feedback().annotate(week=TruncWeek("submitted_at")).values("week")
        .annotate(**_feedback_aggregates()).order_by("week")
    )
    rows: dict[tuple, Row] = {}
    for values in jobs:
        week_row(rows, values["week"]).add_jobs(values)
    for values in feedback:
        week_row(rows, values["week"]).add_feedback(values)
    return week_links(filters, rows)


def week_row(rows: dict[tuple, Row], value) -> Row:
    week = _week_date(value)
    return rows.setdefault((week,), Row(key=(week,), label=week.strftime("%d %b")))


def week_links(filters: Filters, rows: dict[tuple, Row]) -> list[Row]:
    for row in rows.values():
        week = row.key[0]
        start = max(week, filters.date_from) if filters.date_from else week
        end = min(week + timedelta(days=6), filters.date_to) if filters.date_to else week + timedelta(days=6)
        row.link = inbox_url(filters, date_from=start.isoformat(), date_to=end.isoformat())
    return [rows[key] for key in sorted(rows)]


def _week_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def category_totals(filters: Filters, rows: list[Row]) -> list[dict]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        for category in row.categories:
            totals[category["value"]] += category["n"]
    ordered = sorted(totals.items(), key=lambda t: (-t[1], t[0]))
    return [{"value": v, "label": CATEGORY_LABELS.get(v, v), "n": n, "link": inbox_url(filters, category=v)}
            for v, n in ordered]


def _percent(value: float | None) -> str:
    return numbers.percent(value)


def _seconds(value: float | None) -> str:
    return numbers.seconds(value)


def _interval_text(p, low, high) -> str:
    if p is None:
        return numbers.DASH
    return f"{numbers.percent(p)} (95% CI {numbers.percent(low)}\u2013{numbers.percent(high)})"


@dataclass
class NpsResult:
    question_id: int
    prompt: str
    survey: str
    promoters: int
    passives: int
    detractors: int
    score: float | None
    low: float | None
    high: float | None

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def text(self) -> str:
        if self.score is None:
            return numbers.DASH
        return f"{numbers.nps(self.score)} (95% CI {numbers.nps(self.low)} to {numbers.nps(self.high)})"


def nps_results(filters: Filters) -> list[NpsResult]:
    """Per NPS question: promoters, passives, detractors (one query), the score and its interval."""
    values = (
        filters.answers()
        .filter(question__kind=Question.Kind.NPS, number__isnull=False)
        .values("question_id", "question__prompt", "question__survey__title")
        .annotate(
            promoters=Count("id", filter=Q(number__gte=9)),
            detractors=Count("id", filter=Q(number__lte=6)),
            n=Count("id"),
        )
        .order_by("question__survey__title", "question_id")
    )
    results = []
    for v in values:
        passives = v["n"] - v["promoters"] - v["detractors"]
        score, low, high, _ = stats.nps_from_counts(v["promoters"], passives, v["detractors"])
        results.append(NpsResult(v["question_id"], v["question__prompt"], v["question__survey__title"],
                                 v["promoters"], passives, v["detractors"], score, low, high))
    return results


def nps_overall(results: list[NpsResult]) -> NpsResult | None:
    if not results:
        return None
    promoters = sum(r.promoters for r in results)
    passives = sum(r.passives for r in results)
    detractors = sum(r.detractors for r in results)
    score, low, high, _ = stats.nps_from_counts(promoters, passives, detractors)
    return NpsResult(0, "All NPS questions", "", promoters, passives, detractors, score, low, high)


def survey_results(filters: Filters, labels: dict[int, str]) -> list[dict]:
    """Every survey answered in scope, question by question, through the surveys module's `survey_results` (three
    queries per survey, whatever the number of answers). Surveys are filtered by cohort only: each survey is its own
    time window (open to due), and surveys are not about one tool."""
    from beta.surveys.selectors import survey_results as one_survey

    cohort = Cohort.objects.filter(pk=filters.cohort_id).first() if filters.cohort_id else None
    surveys = Survey.objects.filter(pk__in=filters.answers().values("question__survey_id")).order_by("title", "id")
    results = []
    for survey in surveys:
        result = one_survey(survey, cohort=cohort)
        for item in result["questions"]:
            for text in item.get("texts", []):
                text["studio_label"] = labels.get(text["organization_id"], "Studio")
        results.append(result)
    return results


@dataclass
class ComparisonResult:
    label_a: str
    label_b: str
    comparisons: int
    a: int
    b: int
    same: int

    @property
    def n(self) -> int:
        return self.a + self.b + self.same

    @property
    def rate_a(self):
        return stats.wilson(self.a + self.same / 2, self.n)

    @property
    def rate_b(self):
        return stats.wilson(self.b + self.same / 2, self.n)

    @property
    def rate_a_text(self) -> str:
        return _interval_text(*self.rate_a)

    @property
    def rate_b_text(self) -> str:
        return _interval_text(*self.rate_b)


def comparison_results(filters: Filters) -> list[ComparisonResult]:
    """Blind comparisons grouped by their pair of labels (the same two versions asked of several studios)."""
    values = (
        filters.votes()
        .values("comparison__label_a", "comparison__label_b")
        .annotate(
            comparisons=Count("comparison", distinct=True),
            a=Count("id", filter=Q(choice=ComparisonVote.Choice.A)),
            b=Count("id", filter=Q(choice=ComparisonVote.Choice.B)),
            same=Count("id", filter=Q(choice=ComparisonVote.Choice.SAME)),
        )
        .order_by("comparison__label_a", "comparison__label_b")
    )
    return [ComparisonResult(v["comparison__label_a"], v["comparison__label_b"], v["comparisons"], v["a"], v["b"],
                             v["same"]) for v in values]


def quotes(filters: Filters, labels: dict[int, str], *, limit: int = 30) -> dict:
    """Staff's chosen quotes, and recent reports with text to choose from (two queries)."""
    base = filters.feedback().select_related("organization")
    chosen = list(base.filter(quote_selected=True).order_by("-submitted_at", "-id")[:limit])
    candidates = list(base.filter(quote_selected=False).exclude(text="").order_by("-submitted_at", "-id")[:limit])
    for report in chosen + candidates:
        report.studio_label = labels.get(report.organization_id, "Studio")
    return {"chosen": chosen, "candidates": candidates}


def filter_choices(filters: Filters | None = None) -> dict:
    """What the filter form offers, from the small tables only (never a scan of jobs): cohorts; the catalogue's
    tools and any switched in the tools table; the catalogue's versions, plus the version in the current filter (an
    older version stays selectable through its link)."""
    from beta import tools as catalogue
    from beta.models import ToolSwitch

    names = {tool.slug: tool.name for tool in catalogue.all_tools()}
    slugs = set(names) | set(ToolSwitch.objects.values_list("slug", flat=True))
    versions = {tool.version for tool in catalogue.all_tools() if getattr(tool, "version", "")}
    if filters is not None and filters.version:
        versions.add(filters.version)
    return {
        "cohorts": list(Cohort.objects.order_by("opens_at", "name").values_list("id", "name")),
        "tools": [(slug, names.get(slug, slug)) for slug in sorted(slugs)],
        "versions": sorted(versions),
    }


def _total_from_tools(filters: Filters, tools: list[Row]) -> Row:
    total = Row(key=(), label="All")
    for row in tools:
        for key in ("jobs", "succeeded", "failed", "canceled", "reports", "hours_reports", "hours_jobs"):
            setattr(total, key, getattr(total, key) + getattr(row, key))
        total.hours_sum += row.hours_sum
        total.durations += row.durations
    total.run_times_from_durations()
    total.ratings = {name: [sum(row.ratings.get(name, [0] * 5)[i] for row in tools) for i in range(5)]
                     for name in RATING_FIELDS}
    for name, counts in total.ratings.items():  # the means from the distributions (ratings are 1 to 5)
        n = sum(counts)
        setattr(total, f"avg_{name}", sum(v * c for v, c in zip(RATINGS, counts, strict=True)) / n if n else None)
    total.fit = {value: sum(row.fit.get(value, 0) for row in tools) for value in FIT_LABELS}
    return total


def run_panel(filters: Filters, labels: dict[int, str]) -> dict:
    """The numbers from jobs and feedback: the total, per tool version, cohort, studio and week, and the issue
    categories. On PostgreSQL one query per table (`beta.results.aggregates`: GROUPING SETS, percentiles by
    percentile_disc); elsewhere (SQLite, tests and the embedded default) a query per table and grouping, with the
    run times read into Python for the percentiles."""
    from beta.results import aggregates

    if aggregates.supported():
        panel = aggregates.run_panel(filters, labels)
    else:
        tools = tool_rows(filters)
        panel = {"total": _total_from_tools(filters, tools), "tools": tools, "cohorts": cohort_rows(filters),
                 "studios": studio_rows(filters, labels), "weeks": weekly_rows(filters)}
    panel["total"].link = inbox_url(filters)
    panel["categories"] = category_totals(filters, panel["tools"])
    return panel


def dashboard(filters: Filters, *, cached: bool = False) -> dict:
    """Everything the dashboard and the report show; a fixed number of queries whatever the data's size. With
    `cached` (the page), the whole of it comes from the cache when it is there (`beta.results.cache`)."""
    from beta.results import cache as results_cache

    if cached:
        return results_cache.cached("dashboard", filters, lambda: _dashboard(filters))
    return _dashboard(filters)


def _dashboard(filters: Filters) -> dict:
    labels = studio_labels(anonymise=filters.anonymise)
    nps = nps_results(filters)
    return {
        "filters": filters,
        "computed_at": timezone.now(),
        "labels": labels,
        **run_panel(filters, labels),
        "nps": nps,
        "nps_overall": nps_overall(nps),
        "surveys": survey_results(filters, labels),
        "comparisons": comparison_results(filters),
    }


# --- The period the numbers cover -------------------------------------------------------------------------------------
def cohort_window(cohort_id: int | None = None) -> tuple[date | None, date | None]:
    """The selected cohort's window, or every cohort's (earliest opening to latest closing), as local dates."""
    from django.db.models import Max, Min

    cohorts = Cohort.objects.filter(pk=cohort_id) if cohort_id else Cohort.objects.all()
    window = cohorts.aggregate(start=Min("opens_at"), end=Max("closes_at"))
    return (
        timezone.localdate(window["start"]) if window["start"] else None,
        timezone.localdate(window["end"]) if window["end"] else None,
    )


def default_period(filters: Filters) -> tuple[date | None, date | None]:
    """A report's period unless staff change it: the filters' dates where set, else the cohort windows."""
    start, end = cohort_window(filters.cohort_id)
    return filters.date_from or start, filters.date_to or end


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def period_text(start: date | None, end: date | None) -> str:
    """The period in words: "1-31 May 2025" (an en dash), "7 April to 12 May 2025", or an open end."""
    if start and end:
        if start == end:
            return _day(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}\u2013{end.day} {end:%B %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%B} to {_day(end)}"
        return f"{_day(start)} to {_day(end)}"
    if start:
        return f"From {_day(start)}"
    if end:
        return f"Up to {_day(end)}"
    return "All dates"
