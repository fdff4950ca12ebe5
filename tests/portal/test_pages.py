import pytest
from django.urls import reverse

from tests.factories import AdminFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_landing_explains_the_closed_beta_and_links_to_sign_in(client):
    response = client.get(reverse("portal:landing"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "closed beta" in body
    assert reverse("account_login") in body


def test_sign_in_page_renders_with_labelled_fields(client):
    body = client.get(reverse("account_login")).content.decode()
    assert '<label for="id_login">' in body
    assert '<label for="id_password">' in body
    assert "by invitation" in body


def test_partner_navigation(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.get(reverse("portal:dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert membership.organization.name in body
    assert reverse("portal:staff-studios") not in body
    assert "Partner" in body


def test_reviewer_navigation(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("portal:home"), follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("portal:staff-home")
    assert reverse("portal:staff-studios") in body
    assert reverse("admin:index") not in body
    assert "Studio reviewer" in body


def test_admin_navigation_leaves_the_django_admin_to_superusers(client):
    client.force_login(AdminFactory())
    body = client.get(reverse("portal:staff-home")).content.decode()
    assert reverse("admin:index") not in body
    assert "Programme admin" in body
    client.force_login(AdminFactory(is_superuser=True))
    assert reverse("admin:index") in client.get(reverse("portal:staff-home")).content.decode()


def test_partners_cannot_open_staff_pages(client):
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("portal:staff-studios")).status_code == 404


def test_signed_in_visitor_to_the_landing_page_goes_home(client):
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("portal:landing")).url == reverse("portal:home")


def test_pages_need_sign_in(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
