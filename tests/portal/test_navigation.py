"""The grouped main navigation (portal.context_processors) per role, the current page marked in it, and the theme
choice (portal.theme) the server renders into <html data-theme>."""

import pytest
from django.urls import reverse

from portal.context_processors import _nav_for
from tests.factories import AdminFactory, JobFactory, MembershipFactory, OwnerFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _groups(user) -> dict[str, list[str]]:
    return {group.label: [label for label, _name in group.links] for group in _nav_for(user)}


def _names(user) -> set[str]:
    return {name for group in _nav_for(user) for _label, name in group.links}


def test_a_partner_owner_sees_five_groups_with_the_access_log_under_studio():
    owner = OwnerFactory().user
    assert _groups(owner) == {
        "Home": ["Home"],
        "Media": ["Asset library", "Upload", "Verify provenance"],
        "Jobs": ["Tool catalogue", "Jobs"],
        "Feedback": ["Your feedback", "Surveys", "Comparisons"],
        "Studio": ["Team", "API keys", "Webhooks", "Access log"],
    }
    assert "studio:access-log" in _names(owner)
    assert not any(name.startswith(("portal:staff", "beta:staff", "admin:")) for name in _names(owner))


def test_a_partner_member_has_no_access_log_link_which_is_for_owners():
    member = MembershipFactory().user
    assert _groups(member)["Studio"] == ["Team", "API keys", "Webhooks"]


def test_a_reviewer_sees_the_staff_groups_without_the_admin_only_pages():
    reviewer = StaffFactory()
    assert _groups(reviewer) == {
        "Overview": ["Overview"],
        "Studios": ["Studios"],
        "Tools": ["Tools and queues", "Jobs", "Verify provenance"],
        "Feedback": ["Feedback inbox"],
        "Results": ["Results"],
        "Programme": ["Surveys", "Comparisons"],
    }
    assert not {"portal:staff-cohorts", "portal:staff-invites", "portal:staff-audit", "admin:index"} & _names(reviewer)


def test_an_admin_gets_the_programme_pages_but_not_the_django_admin():
    admin = AdminFactory()
    assert _groups(admin)["Programme"] == ["Cohorts", "Invites", "Agreements", "Surveys", "Comparisons", "Audit trail"]
    assert _groups(admin)["Tools"] == ["Tools and queues", "Quotas", "Jobs", "Verify provenance"]
    assert "admin:index" not in _names(admin)


def test_a_superuser_also_gets_the_django_admin():
    superuser = AdminFactory(is_superuser=True)
    assert _groups(superuser)["Programme"][-1] == "Django admin"
    assert "admin:index" in _names(superuser)


def test_every_nav_link_opens_for_its_role(client):
    # Given each role signed in, when it follows every link of its own navigation, then each page answers 200.
    for user in (OwnerFactory().user, StaffFactory(), AdminFactory()):
        client.force_login(user)
        for name in _names(user):
            assert client.get(reverse(name)).status_code == 200, (user, name)


def test_the_current_page_and_its_group_are_marked(client):
    owner = OwnerFactory()
    client.force_login(owner.user)
    body = client.get(reverse("beta:job-list")).content.decode()
    assert f'<a class="menu-panel__item" href="{reverse("beta:job-list")}" aria-current="page">Jobs</a>' in body
    assert '<summary class="site-nav__link" aria-current="true">Jobs</summary>' in body
    assert body.count('aria-current="true"') == 1
    # A page below a nav entry (one job) marks that entry's group, not a page.
    job = JobFactory(organization=owner.organization, submitted_by=owner.user)
    body = client.get(reverse("beta:job-detail", args=[job.pk])).content.decode()
    assert '<summary class="site-nav__link" aria-current="true">Jobs</summary>' in body
    assert 'aria-current="page"' not in body


def test_a_one_link_group_is_a_plain_link(client):
    client.force_login(OwnerFactory().user)
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert f'<a class="site-nav__link" href="{reverse("portal:dashboard")}" aria-current="page">Home</a>' in body


def test_the_theme_cookie_is_rendered_and_anything_else_means_system(client):
    client.force_login(OwnerFactory().user)
    assert 'data-theme="system"' in client.get(reverse("portal:dashboard")).content.decode()
    client.cookies["theme"] = "dark"
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert '<html lang="en" data-theme="dark">' in body
    assert '<meta name="color-scheme" content="dark">' in body
    assert 'value="dark" aria-pressed="true"' in body
    client.cookies["theme"] = "<script>"
    assert 'data-theme="system"' in client.get(reverse("portal:dashboard")).content.decode()


def test_the_theme_form_sets_the_cookie_and_goes_back_without_scripts(client):
    response = client.post(reverse("portal:theme"), {"theme": "light", "next": "/tdm-policy/"})
    assert response.status_code == 302
    assert response.url == "/tdm-policy/"
    assert response.cookies["theme"].value == "light"
    assert response.cookies["theme"]["samesite"] == "Lax"


def test_the_theme_form_refuses_an_unknown_theme_and_a_foreign_next(client):
    response = client.post(reverse("portal:theme"), {"theme": "neon", "next": "https://evil.example/"})
    assert response.url == "/"
    assert "theme" not in response.cookies
    assert client.get(reverse("portal:theme")).status_code == 405
