"""Tenant isolation sweep: every URL of ours that takes an object id answers 404 to a member of another studio.

The URL patterns are discovered from the resolver, not listed by hand, so new views are covered as they are
added. A kwarg named `<model>_id` is resolved to that model of our apps; a model without a builder below, or a
kwarg that names no model, fails the test until it is taught here.
"""

import pytest
from django.apps import apps
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from api.models import ApiKey
from assets.models import Asset, DeletionReceipt
from beta.models import (
    Comparison,
    FeedbackAttachment,
    FeedbackNote,
    FeedbackReport,
    Job,
    Question,
    ResultsExport,
    ResultsReport,
    Survey,
    SurveyAssignment,
)
from portal.models import AgreementVersion, Cohort, Invite, Membership, Notification, Organization
from tests.factories import (
    AdminFactory,
    AgreementVersionFactory,
    ApiKeyFactory,
    AssetFactory,
    CohortFactory,
    ComparisonFactory,
    DeletionReceiptFactory,
    FeedbackReportFactory,
    InviteFactory,
    JobFactory,
    MembershipFactory,
    OwnerFactory,
    QuestionFactory,
    SurveyAssignmentFactory,
    WebhookEndpointFactory,
)
from webhooks.models import WebhookEndpoint

OUR_APPS = ("portal", "assets", "beta", "webhooks", "api")
NOT_OBJECT_KWARGS = {
    "token",
    "part_number",
    "kind",
    "tool_slug",
    "problem",
}  # tokens are checked by hash; the others qualify an object

BUILDERS = {
    Organization: lambda studio: studio,
    Membership: lambda studio: MembershipFactory(organization=studio),
    Invite: lambda studio: InviteFactory(organization=studio),
    Cohort: lambda studio: studio.cohort,
    Asset: lambda studio: AssetFactory(organization=studio),
    DeletionReceipt: lambda studio: DeletionReceiptFactory(organization=studio),
    Job: lambda studio: JobFactory(organization=studio),
    # Feedback: written by the studio's owner (the sweep's rightful viewer), as only its author edits a report.
    FeedbackReport: lambda studio: FeedbackReportFactory(organization=studio, author=studio.memberships.first().user),
    FeedbackNote: lambda studio: FeedbackNote.objects.create(
        report=FeedbackReportFactory(organization=studio, author=studio.memberships.first().user), seconds=1, text="x"
    ),
    FeedbackAttachment: lambda studio: FeedbackAttachment.objects.create(
        report=FeedbackReportFactory(organization=studio, author=studio.memberships.first().user),
        asset=AssetFactory(organization=studio),
    ),
    # A survey reaches a studio through an assignment to its cohort; the attacker's studio is in no cohort.
    Survey: lambda studio: SurveyAssignmentFactory(cohort=studio.cohort).survey,
    Question: lambda studio: QuestionFactory(survey=SurveyAssignmentFactory(cohort=studio.cohort).survey),
    SurveyAssignment: lambda studio: SurveyAssignmentFactory(cohort=studio.cohort),
    Comparison: lambda studio: ComparisonFactory(organization=studio),
    ApiKey: lambda studio: ApiKeyFactory(organization=studio, created_by=studio.memberships.first().user),
    WebhookEndpoint: lambda studio: WebhookEndpointFactory(organization=studio),
    # A notification is one person's: the studio owner's, about the studio's job.
    Notification: lambda studio: Notification.objects.create(
        recipient=studio.memberships.first().user, organization=studio, kind="job.finished",
        title="Dailies: job 1 finished", url="/jobs/1/",
    ),
    # The programme's results report belongs to no studio: staff only, so every partner gets a 404.
    ResultsReport: lambda studio: ResultsReport.objects.create(status="succeeded", pdf_key="staff/x/report.pdf",
                                                               html_key="staff/x/report.html"),
    # The beta agreement's versions belong to no studio: their console pages are staff only (a draft here).
    AgreementVersion: lambda studio: AgreementVersionFactory(published_at=None),
    # A large export built by a worker: staff only too.
    ResultsExport: lambda studio: ResultsExport.objects.create(dataset="jobs", filename="jobs.xlsx", status="succeeded",
                                                               file_key="staff/x/jobs.xlsx"),
}
# Kwargs whose name is shorter than their model's (`report_id` for a FeedbackReport).
KWARG_MODELS = {"report_id": FeedbackReport}
# Values for kwargs that qualify an object rather than name one.
QUALIFIERS = {"part_number": 1, "kind": "thumbnail", "tool_slug": "noop"}


def _walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry, namespace)
        elif isinstance(entry, URLPattern):
            yield prefix, entry


def object_patterns():
    found = []
    for namespace, pattern in _walk(get_resolver()):
        module = getattr(pattern.callback, "__module__", "")
        if not module.startswith(OUR_APPS) or not pattern.name:
            continue
        kwargs = set(pattern.pattern.converters)
        if kwargs and not kwargs <= NOT_OBJECT_KWARGS:
            found.append((f"{namespace}{pattern.name}", sorted(kwargs - NOT_OBJECT_KWARGS), pattern.callback))
    return found


def pattern_kwargs(url_name: str) -> set[str]:
    return {k for name, kwargs, _ in object_patterns_with_qualifiers() if name == url_name for k in kwargs}


def object_patterns_with_qualifiers():
    for namespace, pattern in _walk(get_resolver()):
        if pattern.name:
            yield f"{namespace}{pattern.name}", set(pattern.pattern.converters), pattern.callback


def model_for_kwarg(kwarg: str):
    assert kwarg.endswith("_id"), f"URL kwarg {kwarg!r}: name object ids <model>_id so the sweep can check them"
    if kwarg in KWARG_MODELS:
        return KWARG_MODELS[kwarg]
    name = kwarg.removesuffix("_id")
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.model_name == name:
                return model
    raise AssertionError(f"URL kwarg {kwarg!r} names no model of {OUR_APPS}")


PATTERNS = object_patterns()


def test_the_sweep_finds_the_object_views():
    names = {name for name, _, _ in PATTERNS}
    assert {"portal:team-invite-revoke", "portal:team-member-remove", "portal:staff-studio"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "kwargs", "view"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_another_studios_object_answers_404(client, url_name, kwargs, view):
    studio_a = OwnerFactory(organization__cohort=CohortFactory()).organization
    owner_a = studio_a.memberships.get().user
    attacker = OwnerFactory().user  # the most powerful partner role, in another studio
    objects = {}
    for kwarg in kwargs:
        model = model_for_kwarg(kwarg)
        assert model in BUILDERS, f"teach the isolation sweep to build a {model.__name__} (for {url_name})"
        objects[kwarg] = BUILDERS[model](studio_a)
    url = reverse(
        url_name,
        kwargs={
            **{k: o.pk for k, o in objects.items()},
            **{k: v for k, v in QUALIFIERS.items() if k in pattern_kwargs(url_name)},
        },
    )
    before = {k: model_to_dict(o) for k, o in objects.items()}

    client.force_login(attacker)
    statuses = {method: getattr(client, method)(url).status_code for method in ("get", "post", "put")}
    assert set(statuses.values()) <= {404, 405}, f"{url_name} answered {statuses} to another studio"
    assert 404 in statuses.values()
    for kwarg, obj in objects.items():
        fresh = type(obj).objects.filter(pk=obj.pk).first()
        assert fresh is not None, f"{url_name}: another studio deleted the object"
        assert model_to_dict(fresh) == before[kwarg], f"{url_name}: another studio changed the object"

    # The control: the object's rightful viewer does not get a 404, so the test can tell the difference.
    rightful = AdminFactory() if getattr(view, "staff_only", False) else owner_a
    client.force_login(rightful)
    rightful_statuses = [getattr(client, method)(url).status_code for method in ("get", "post", "put")]
    assert any(status != 404 for status in rightful_statuses), f"{url_name} 404s for everyone"
