from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def staff_required(view):
    """Studio staff only. Anyone else gets a 404: staff pages do not reveal that they exist."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_studio_staff:
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.staff_only = True
    return wrapper


def admin_required(view):
    """Programme admins only; anyone else gets a 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_programme_admin:
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.staff_only = True
    return wrapper


def partner_required(view):
    """Members of a partner studio only (staff have their own pages)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_studio_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
