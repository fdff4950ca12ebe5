from django.conf import settings
from django.urls import reverse


def _nav_for(user, path: str) -> list[dict]:
    """The main navigation for who is signed in. Later features add their entries here."""
    if user.is_studio_staff:
        items = [("Overview", "portal:staff-home"), ("Studios", "portal:staff-studios")]
        if user.is_programme_admin:
            items.append(("Django admin", "admin:index"))
    else:
        items = [("Dashboard", "portal:dashboard")]
    nav = []
    for label, name in items:
        url = reverse(name)
        nav.append(
            {
                "label": label,
                "url": url,
                "active": path == url or (url != "/" and path.startswith(url) and name != "admin:index"),
            }
        )
    return nav


def portal(request) -> dict:
    context = {"PORTAL_NAME": settings.PORTAL_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_items"] = _nav_for(user, request.path)
        context["nav_role_label"] = user.get_staff_role_display() if user.is_studio_staff else "Partner"
    return context
