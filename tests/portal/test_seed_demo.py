import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from portal.models import Membership, Organization, User


def _snapshot():
    return {
        "users": sorted(User.objects.values_list("email", "staff_role", "password")),
        "studios": sorted(Organization.objects.values_list("slug", "name")),
        "memberships": sorted(Membership.objects.values_list("user__email", "organization__slug", "role")),
        "emails": sorted(EmailAddress.objects.values_list("email", "verified", "primary")),
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first


@pytest.mark.django_db
def test_seed_demo_creates_staff_and_two_studios_with_owner_and_member(settings, client):
    call_command("seed_demo")
    assert User.objects.get(email="admin@greenlight.test").is_programme_admin
    assert User.objects.get(email="reviewer@greenlight.test").is_reviewer
    assert Organization.objects.count() == 2
    for studio in Organization.objects.all():
        assert sorted(studio.memberships.values_list("role", flat=True)) == ["member", "owner"]
    # The demo password from DEMO_PASSWORD signs in.
    assert client.login(email="owner@northlight.test", password=settings.DEMO_PASSWORD)
