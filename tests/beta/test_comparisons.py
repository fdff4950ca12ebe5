"""Blind comparisons: staff set one up from two outputs on one input; partners see A and B in an order drawn per
person and stored, without anything that tells which is which; win rates with Wilson intervals, for staff only."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assets.storage import get_store
from beta import stats
from beta import tools as catalogue
from beta.comparisons import selectors, services
from beta.comparisons.errors import ComparisonClosedError, ComparisonError
from beta.models import Comparison, ComparisonVote
from portal.errors import PermissionDeniedError
from tests.factories import (
    AssetFactory,
    ComparisonFactory,
    MembershipFactory,
    OwnerFactory,
    StaffFactory,
    comparable_output,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many people are made here; a fast hasher keeps the module quick (passwords are not what is tested)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SECRET_LABEL_A = "Upscaler ALPHA-LABEL"
SECRET_LABEL_B = "Upscaler BRAVO-LABEL"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def studio():
    return OwnerFactory().organization


def partner(studio):
    return MembershipFactory(organization=studio).user


@pytest.fixture
def comparison(studio, media_root):
    """Two outputs on one input, with real bytes stored so the side URLs can be told apart by content."""
    clip = AssetFactory(organization=studio, sha256="cd" * 32, original_filename="A001_C002.mov")
    out_a = comparable_output(studio, input_asset=clip, tool_version="9.8.7-rc1", filename="secret-alpha-out.mp4")
    out_b = comparable_output(studio, input_asset=clip, tool_version="9.9.0-beta2", filename="secret-bravo-out.mp4")
    store = get_store()
    for output, content in ((out_a, b"output-A-bytes"), (out_b, b"output-B-bytes")):
        source = media_root / f"{output.pk}.bin"
        source.write_bytes(content)
        key = f"orgs/{studio.uuid}/outputs/{output.asset.uuid}/original"
        store.put_file(source, key, "video/mp4")
        output.asset.storage_key, output.asset.size_bytes, output.asset.content_type = key, len(content), "video/mp4"
        output.asset.save()
    return services.comparison_create(
        actor=StaffFactory(), organization=studio, output_a=out_a, output_b=out_b, title="Plate 12, upscaled",
        label_a=SECRET_LABEL_A, label_b=SECRET_LABEL_B,
    )


def side_bytes(client, comparison, side) -> bytes:
    response = client.get(reverse(f"beta:comparison-side-{side}", args=[comparison.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- Win rates -------------------------------------------------------------------------------------------------------
def test_win_rates_on_a_known_set_count_same_as_half_a_win(comparison, studio):
    # Given 10 votes: 6 for A, 2 for B, 2 "about the same", and one person who looked but did not vote
    for choice in ["a"] * 6 + ["b"] * 2 + ["same"] * 2:
        person = partner(studio)
        vote = services.vote_for_viewer(actor=person, comparison=comparison)
        pick = {"same": "same"}.get(choice) or services.screen_pick(vote.order, choice)
        services.vote_submit(actor=person, comparison=comparison, pick=pick, reason="Cleaner edges.")
    services.vote_for_viewer(actor=partner(studio), comparison=comparison)

    results = selectors.comparison_results(comparison)

    assert (results["n"], results["a"], results["b"], results["same"], results["pending"]) == (10, 6, 2, 2, 1)
    a, b = results["variants"]
    assert a["label"] == SECRET_LABEL_A
    assert a["rate"] == pytest.approx(stats.wilson(7, 10))  # 6 + 2/2
    assert b["rate"] == pytest.approx(stats.wilson(3, 10))  # 2 + 2/2
    assert a["rate"][0] + b["rate"][0] == pytest.approx(1.0)
    assert results["decisive"] == pytest.approx(stats.wilson(6, 8))
    assert results["decisive_n"] == 8
    assert len(results["votes"]) == 10


# --- Order: random per person, stored ---------------------------------------------------------------------------------
def test_order_is_drawn_per_person_and_kept_on_reload(client, comparison, studio):
    orders = set()
    for _ in range(40):
        person = partner(studio)
        client.force_login(person)
        assert client.get(reverse("beta:comparison-vote", args=[comparison.pk])).status_code == 200
        orders.add(ComparisonVote.objects.get(comparison=comparison, voter=person).order)
    assert orders == {"ab", "ba"}  # 40 people all drawing the same order: 1 chance in 2^39

    # The same person sees the same order on every reload, and the side URLs follow it.
    person = partner(studio)
    client.force_login(person)
    client.get(reverse("beta:comparison-vote", args=[comparison.pk]))
    order = ComparisonVote.objects.get(comparison=comparison, voter=person).order
    expected_left = b"output-A-bytes" if order == "ab" else b"output-B-bytes"
    for _ in range(3):
        client.get(reverse("beta:comparison-vote", args=[comparison.pk]))
        assert ComparisonVote.objects.get(comparison=comparison, voter=person).order == order
        assert side_bytes(client, comparison, "left") == expected_left
        assert side_bytes(client, comparison, "right") != expected_left
    assert ComparisonVote.objects.filter(comparison=comparison, voter=person).count() == 1


def test_side_urls_answer_range_requests(client, comparison, studio):
    client.force_login(partner(studio))
    response = client.get(reverse("beta:comparison-side-left", args=[comparison.pk]), HTTP_RANGE="bytes=0-5")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"output"
    assert response["Content-Range"] == "bytes 0-5/14"
    assert 'filename="left.mp4"' in response["Content-Disposition"]
    # Not for training (W3C TDMRep), and no cache keeps it.
    assert response["tdm-reservation"] == "1"
    assert response["tdm-policy"].endswith(reverse("portal:tdm-policy"))
    assert response["Cache-Control"] == "private, no-store"


def test_a_pick_is_stored_in_true_terms_whatever_side_it_was_on(client, comparison, studio):
    for _ in range(12):
        person = partner(studio)
        client.force_login(person)
        client.get(reverse("beta:comparison-vote", args=[comparison.pk]))
        response = client.post(reverse("beta:comparison-vote", args=[comparison.pk]),
                               {"pick": "left", "reason": "Less ringing on the edges."})
        assert response.status_code == 302
        vote = ComparisonVote.objects.get(comparison=comparison, voter=person)
        assert vote.choice == ("a" if vote.order == "ab" else "b")
        assert vote.reason == "Less ringing on the edges."
        assert vote.voted_at is not None
    same = partner(studio)
    services.vote_for_viewer(actor=same, comparison=comparison)
    vote = services.vote_submit(actor=same, comparison=comparison, pick="same", reason="No difference.")
    assert vote.choice == "same"


def test_a_pick_needs_a_reason_and_an_open_comparison(client, comparison, studio):
    person = partner(studio)
    client.force_login(person)
    response = client.post(reverse("beta:comparison-vote", args=[comparison.pk]), {"pick": "right", "reason": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    with pytest.raises(ComparisonError, match="Pick the left"):
        services.vote_submit(actor=person, comparison=comparison, pick="a", reason="Because.")

    Comparison.objects.filter(pk=comparison.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    comparison.refresh_from_db()
    with pytest.raises(ComparisonClosedError):
        services.vote_submit(actor=person, comparison=comparison, pick="left", reason="Late.")
    response = client.post(reverse("beta:comparison-vote", args=[comparison.pk]),
                           {"pick": "left", "reason": "Late."}, follow=True)
    assert "This comparison is closed" in response.content.decode()
    assert not ComparisonVote.objects.filter(voted_at__isnull=False).exists()


# --- Blinding ---------------------------------------------------------------------------------------------------------
def test_partners_never_receive_labels_versions_job_ids_or_filenames(client, comparison, studio):
    person = partner(studio)
    client.force_login(person)
    pages = [
        client.get(reverse("beta:comparison-vote", args=[comparison.pk])).content.decode(),
        client.get(reverse("beta:comparison-list")).content.decode(),
        # The home's comparisons panel. (The home's "Recent jobs", like the jobs page, lists the studio's own runs,
        # these included: nothing there ties a run to a side.)
        re.search(r'<section class="card" aria-labelledby="open-comparisons-title">.*?</section>',
                  client.get(reverse("portal:dashboard")).content.decode(), re.S).group(0),
    ]
    services.vote_submit(actor=person, comparison=comparison, pick="left", reason="Sharper.")
    pages.append(client.get(reverse("beta:comparison-vote", args=[comparison.pk])).content.decode())
    assert "Plate 12, upscaled" in pages[0]  # the control: the page rendered
    assert reverse("beta:comparison-side-left", args=[comparison.pk]) in pages[0]
    noop = catalogue.get_tool("noop")
    secrets = [SECRET_LABEL_A, SECRET_LABEL_B, "ALPHA", "BRAVO", "9.8.7-rc1", "9.9.0-beta2", "secret-alpha",
               "secret-bravo", noop.name, "noop"]
    for output in (comparison.output_a, comparison.output_b):
        secrets += [
            reverse("beta:job-detail", args=[output.job_id]),
            f"Job {output.job_id}",
            f"job {output.job_id}",
            reverse("assets:detail", args=[output.asset_id]),
            str(output.asset.uuid),
            output.label,
        ]
    for page in pages:
        for secret in secrets:
            assert secret not in page, f"{secret!r} leaks into a partner page"
    # The page's only media URLs name the side, not the output.
    media = set(re.findall(r'(?:src|href)="([^"]*comparisons[^"]*)"', pages[0]))
    assert media <= {
        reverse("beta:comparison-side-left", args=[comparison.pk]),
        reverse("beta:comparison-side-right", args=[comparison.pk]),
        reverse("beta:comparison-list"),
        reverse("beta:comparison-vote", args=[comparison.pk]),
    }


def test_another_studios_comparison_is_a_404(client, comparison):
    outsider = OwnerFactory().user
    client.force_login(outsider)
    for name in ("beta:comparison-vote", "beta:comparison-side-left", "beta:comparison-side-right"):
        assert client.get(reverse(name, args=[comparison.pk])).status_code == 404
    assert client.post(reverse("beta:comparison-vote", args=[comparison.pk]),
                       {"pick": "left", "reason": "x"}).status_code == 404
    assert "Plate 12" not in client.get(reverse("beta:comparison-list")).content.decode()
    assert not ComparisonVote.objects.exists()
    with pytest.raises(PermissionDeniedError):
        services.vote_for_viewer(actor=outsider, comparison=comparison)


def test_staff_pages_are_404_to_partners(client, comparison, studio):
    client.force_login(partner(studio))
    for name, args in [("beta:staff-comparisons", []), ("beta:staff-comparison-new", []),
                       ("beta:staff-comparison", [comparison.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 404
    assert client.post(reverse("beta:staff-comparison-status", args=[comparison.pk]),
                       {"status": "closed"}).status_code == 404
    comparison.refresh_from_db()
    assert comparison.status == "open"


# --- Staff: set-up and results ----------------------------------------------------------------------------------------
def test_staff_set_up_a_comparison_from_two_outputs_on_the_same_input(client, studio):
    clip = AssetFactory(organization=studio, sha256="ef" * 32, original_filename="B002.mov")
    first = comparable_output(studio, input_asset=clip, tool_version="1.0.0")
    second = comparable_output(studio, input_asset=clip, tool_version="1.1.0")
    elsewhere = comparable_output(studio, tool_version="1.1.0")  # another input, with two runs on it
    comparable_output(studio, input_asset=elsewhere.job.job_inputs.get().asset, tool_version="1.0.0")
    other_studio_output = comparable_output(OwnerFactory().organization, tool_version="2.0.0")
    client.force_login(StaffFactory())
    url = reverse("beta:staff-comparison-new")

    page = client.get(url, {"studio": studio.pk}).content.decode()
    assert "B002.mov" in page
    assert f'value="{first.pk}"' in page
    assert f'value="{other_studio_output.pk}"' not in page

    mismatched = client.post(f"{url}?studio={studio.pk}",
                             {"title": "Shot 4", "output_a": first.pk, "output_b": elsewhere.pk})
    assert mismatched.status_code == 400
    assert "same input as A" in mismatched.content.decode()
    same = client.post(f"{url}?studio={studio.pk}", {"title": "Shot 4", "output_a": first.pk, "output_b": first.pk})
    assert "other than A" in same.content.decode()

    response = client.post(f"{url}?studio={studio.pk}",
                           {"title": "Shot 4", "output_a": first.pk, "output_b": second.pk, "label_b": "New model"})
    comparison = Comparison.objects.get(title="Shot 4")
    assert response.url == reverse("beta:staff-comparison", args=[comparison.pk])
    assert (comparison.output_a, comparison.output_b, comparison.organization) == (first, second, studio)
    assert comparison.label_a == f"{catalogue.get_tool('noop').name} 1.0.0"  # the default label
    assert comparison.label_b == "New model"
    assert comparison.question == "Which output is better for your production?"


def test_create_refuses_outputs_of_different_inputs_or_studios(studio):
    staff = StaffFactory()
    a = comparable_output(studio)
    b = comparable_output(studio, input_asset=AssetFactory(organization=studio, sha256="99" * 32))
    with pytest.raises(ComparisonError, match="same input"):
        services.comparison_create(actor=staff, organization=studio, output_a=a, output_b=b, title="x")
    other = comparable_output(OwnerFactory().organization)
    with pytest.raises(ComparisonError, match="studio's own jobs"):
        services.comparison_create(actor=staff, organization=studio, output_a=a, output_b=other, title="x")
    with pytest.raises(PermissionDeniedError):
        services.comparison_create(actor=partner(studio), organization=studio, output_a=a, output_b=a, title="x")


def test_staff_results_page_is_unblinded(client, comparison, studio):
    for pick in ["left", "left", "right", "same"]:
        person = partner(studio)
        services.vote_for_viewer(actor=person, comparison=comparison)
        services.vote_submit(actor=person, comparison=comparison, pick=pick, reason=f"Reason {pick}")
    client.force_login(StaffFactory())
    body = client.get(reverse("beta:staff-comparison", args=[comparison.pk])).content.decode()
    assert SECRET_LABEL_A in body
    assert SECRET_LABEL_B in body
    assert "4 votes" in body
    assert "Wilson" in body
    assert "Reason same" in body
    listing = client.get(reverse("beta:staff-comparisons")).content.decode()
    assert "Plate 12, upscaled" in listing

    client.post(reverse("beta:staff-comparison-status", args=[comparison.pk]), {"status": "closed"})
    comparison.refresh_from_db()
    assert comparison.status == "closed"
    assert not services.is_open(comparison)


def test_open_comparisons_show_on_the_partner_dashboard(client, comparison, studio):
    client.force_login(partner(studio))
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert "Comparisons to judge" in body
    assert reverse("beta:comparison-vote", args=[comparison.pk]) in body
    Comparison.objects.filter(pk=comparison.pk).update(status="closed")
    assert "Comparisons to judge" not in client.get(reverse("portal:dashboard")).content.decode()


def test_factory_comparison_is_valid(studio):
    comparison = ComparisonFactory(organization=studio)
    assert comparison.output_a.job.organization == studio
    assert services.input_fingerprint(comparison.output_a.job) == services.input_fingerprint(comparison.output_b.job)


# --- The results dashboard's cache ------------------------------------------------------------------------------------
def test_a_vote_shows_on_the_cached_results_dashboard(comparison, studio, settings,
                                                      django_capture_on_commit_callbacks):
    from beta.results import selectors as results

    settings.RESULTS_DASHBOARD_CACHE_SECONDS = 60
    filters = results.Filters()
    assert results.dashboard(filters, cached=True)["comparisons"] == []  # computed and cached before any vote
    person = partner(studio)
    vote = services.vote_for_viewer(actor=person, comparison=comparison)
    with django_capture_on_commit_callbacks(execute=True):
        services.vote_submit(actor=person, comparison=comparison, pick=services.screen_pick(vote.order, "a"),
                             reason="Cleaner edges.")
    [row] = results.dashboard(filters, cached=True)["comparisons"]
    assert (row.a, row.b, row.same) == (1, 0, 0)
