from django.conf import settings
from django.urls import reverse


def _nav_for(user) -> list[tuple[str, str]]:
    """The main navigation for who is signed in. Later features add their entries here."""
    if user.is_studio_staff:
        items = [
            ("Overview", "portal:staff-home"),
            ("Studios", "portal:staff-studios"),
            ("Jobs", "beta:staff-jobs"),
            ("Feedback", "beta:feedback-inbox"),
            ("Surveys", "beta:staff-surveys"),
            ("Comparisons", "beta:staff-comparisons"),
            ("Results", "beta:results-dashboard"),
            ("Provenance", "assets:provenance-verify"),
            ("Tools", "beta:staff-tools"),
        ]
        if user.is_programme_admin:
            items += [
                ("Cohorts", "portal:staff-cohorts"),
                ("Invites", "portal:staff-invites"),
                ("Audit trail", "portal:staff-audit"),
                ("Quotas", "beta:staff-quotas"),
                ("Agreements", "portal:staff-agreements"),
                ("Django admin", "admin:index"),
            ]
        return items
    return [
        ("Dashboard", "portal:dashboard"),
        ("Tools", "beta:catalogue"),
        ("Jobs", "beta:job-list"),
        ("Feedback", "beta:feedback-list"),
        ("Surveys", "beta:survey-list"),
        ("Comparisons", "beta:comparison-list"),
        ("Assets", "assets:library"),
        ("Team", "portal:team"),
        ("Webhooks", "webhooks:endpoint-list"),
        ("API keys", "apikeys:list"),
        ("Provenance", "assets:provenance-verify"),
    ]


def portal(request) -> dict:
    context = {"PORTAL_NAME": settings.PORTAL_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        nav = []
        for label, name in _nav_for(user):
            url = reverse(name)
            nav.append({"label": label, "url": url, "active": request.path == url})
        context["nav_items"] = nav
        context["nav_role_label"] = user.get_staff_role_display() if user.is_studio_staff else "Partner"
    return context
