from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase

if TYPE_CHECKING:
    from portal.models import User

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class AuthenticatedHttpRequest(HttpRequest):
    """For type checking: the request of a view behind `login_required` (or a decorator here), whose user signed in."""

    user: User


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


def partner_required(view: _View) -> _View:
    """Members of a partner studio only (staff have their own pages)."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_studio_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return cast(_View, wrapper)  # the same signature: wraps() keeps it, login_required only checks first
