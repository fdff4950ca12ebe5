"""Hypothesis over the page forms a partner posts (feedback, its notes and drafts, running a tool, opening an
upload): whatever is sent, the answer is a page or a form error, never a server error. The test client re-raises
a view's exception, so a 500 fails the example that caused it (and Hypothesis shrinks it)."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beta.feedback import services as feedback_services
from beta.models import Job, JobInput, JobOutput
from tests.factories import AssetFactory, CohortFactory, OwnerFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: What a hostile form sends for a number: huge, negative, not finite, exponent-heavy, or not a number at all.
NUMBERISH = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from(["1e308", "-1e308", "inf", "nan", "NaN", "1e-400", "0x10", "٣", "99999999999999999999", "", " "]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30),
)
TEXTISH = st.text(max_size=200)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**90), max_value=2**90) | st.floats(allow_nan=False) | TEXTISH,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=60,
)


@pytest.fixture
def owner(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = OwnerFactory(organization__cohort=CohortFactory())  # an open cohort: tools may run
    client.force_login(owner.user)
    return owner


@pytest.fixture
def report(owner):
    job = Job.objects.create(organization=owner.organization, submitted_by=owner.user, tool_slug="dailies",
                             tool_version="1.0.0", status=Job.Status.SUCCEEDED, progress=100)
    source = AssetFactory(organization=owner.organization)
    JobInput.objects.create(job=job, asset=source, position=0, sha256=source.sha256)
    video = AssetFactory(organization=owner.organization, origin="output", kind="video", duration_seconds=10, fps=25)
    JobOutput.objects.create(job=job, asset=video, role="proxy", label="Review copy")
    return feedback_services.feedback_start(user=owner.user, job=job)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={
    "overall_rating": NUMBERISH, "quality_rating": NUMBERISH, "usefulness_rating": NUMBERISH,
    "production_fit": TEXTISH, "hours_saved": NUMBERISH, "categories": st.lists(TEXTISH, max_size=5),
    "text": TEXTISH}), draft=st.booleans())
def test_the_feedback_form_never_fails_on_bad_input(client, report, data, draft):
    name = "beta:feedback-draft" if draft else "beta:feedback-edit"
    response = client.post(reverse(name, args=[report.pk]), data, HTTP_HX_REQUEST="true" if draft else "")
    assert response.status_code < 500


@FUZZ
@given(seconds=NUMBERISH, text=TEXTISH, output=st.one_of(st.none(), NUMBERISH))
def test_a_timecoded_note_never_fails_and_stays_within_the_video(client, report, seconds, text, output):
    data = {"seconds": seconds, "text": text, **({"output": output} if output is not None else {})}
    response = client.post(reverse("beta:feedback-note-add", args=[report.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code < 500
    assert all(0 <= note.seconds <= 11 for note in report.notes.all())


@FUZZ
@given(assets=st.lists(st.one_of(st.sampled_from(["99999999999999999999", str(2**63), "1"]), NUMBERISH), max_size=4),
       height=st.one_of(st.just("540"), NUMBERISH), key=TEXTISH)
def test_the_run_form_never_fails_on_bad_input(client, owner, assets, height, key):
    response = client.post(reverse("beta:submit", args=["dailies"]),
                           {"assets": assets, "height": height, "idempotency_key": key})
    assert response.status_code < 500


@FUZZ
@given(body=st.one_of(st.fixed_dictionaries({"filename": JSONISH, "size": JSONISH, "content_type": JSONISH}),
                      JSONISH))
def test_opening_an_upload_never_fails_on_bad_input(client, owner, body):
    response = client.post(reverse("assets:upload-start"), json.dumps(body), content_type="application/json")
    assert response.status_code < 500
