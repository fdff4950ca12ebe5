from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from portal.models import Membership
from portal.theme import THEME_CHOICES, theme_from_request


@dataclass(frozen=True)
class NavGroup:
    """One entry of the main navigation: a group of (label, url name) links. A group of one link shows as that link
    under the group's label; a longer group is a disclosure menu."""

    label: str
    links: tuple[tuple[str, str], ...]


def _partner_nav(user) -> list[NavGroup]:
    membership = Membership.objects.filter(user=user).only("role").first()
    studio = [("Team", "portal:team"), ("API keys", "apikeys:list"), ("Webhooks", "webhooks:endpoint-list")]
    if membership is not None and membership.role == Membership.Role.OWNER:
        studio.append(("Access log", "studio:access-log"))
    return [
        NavGroup("Home", (("Home", "portal:dashboard"),)),
        NavGroup("Media", (
            ("Asset library", "assets:library"),
            ("Upload", "assets:upload"),
            ("Verify provenance", "assets:provenance-verify"),
        )),
        NavGroup("Jobs", (("Tool catalogue", "beta:catalogue"), ("Jobs", "beta:job-list"))),
        NavGroup("Feedback", (
            ("Your feedback", "beta:feedback-list"),
            ("Surveys", "beta:survey-list"),
            ("Comparisons", "beta:comparison-list"),
        )),
        NavGroup("Studio", tuple(studio)),
    ]


def _staff_nav(user) -> list[NavGroup]:
    admin = user.is_programme_admin
    programme = [
        ("Cohorts", "portal:staff-cohorts", admin),
        ("Invites", "portal:staff-invites", admin),
        ("Agreements", "portal:staff-agreements", admin),
        ("Surveys", "beta:staff-surveys", True),
        ("Comparisons", "beta:staff-comparisons", True),
        ("Audit trail", "portal:staff-audit", admin),
        ("Django admin", "admin:index", user.is_superuser),
    ]
    tools = [
        ("Tools and queues", "beta:staff-tools", True),
        ("Quotas", "beta:staff-quotas", admin),
        ("Jobs", "beta:staff-jobs", True),
        ("Verify provenance", "assets:provenance-verify", True),
    ]
    return [
        NavGroup("Overview", (("Overview", "portal:staff-home"),)),
        NavGroup("Studios", (("Studios", "portal:staff-studios"),)),
        NavGroup("Tools", tuple((label, name) for label, name, shown in tools if shown)),
        NavGroup("Feedback", (("Feedback inbox", "beta:feedback-inbox"),)),
        NavGroup("Results", (("Results", "beta:results-dashboard"),)),
        NavGroup("Programme", tuple((label, name) for label, name, shown in programme if shown)),
    ]


def _nav_for(user) -> list[NavGroup]:
    """The main navigation for who is signed in, in groups. Later features add their entry to a group here."""
    return _staff_nav(user) if user.is_studio_staff else _partner_nav(user)


def _nav_items(groups: list[NavGroup], path: str) -> list[dict]:
    """Groups with their URLs resolved. The link whose URL is the longest prefix of the path is the current one
    (a job's page belongs to Jobs); `current` is "page" on that very page, "true" below it."""
    resolved = [[(label, reverse(name)) for label, name in group.links] for group in groups]
    matches = [url for links in resolved for _label, url in links if path.startswith(url)]
    best = max(matches, key=len, default=None)
    items = []
    for group, links in zip(groups, resolved, strict=True):
        entries = [
            {"label": label, "url": url, "current": ("page" if path == url else "true") if url == best else ""}
            for label, url in links
        ]
        if not entries:
            continue
        items.append({
            "label": group.label,
            "links": entries,
            "single": len(entries) == 1,
            "active": any(entry["current"] for entry in entries),
            "slug": group.label.lower().replace(" ", "-"),
        })
    return items


def portal(request) -> dict:
    theme = theme_from_request(request)
    context = {"PORTAL_NAME": settings.PORTAL_NAME, "theme": theme, "theme_choices": THEME_CHOICES}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_items"] = _nav_items(_nav_for(user), request.path)
        context["nav_role_label"] = user.get_staff_role_display() if user.is_studio_staff else "Partner"
    return context
