"""The one tenant mechanism: every partner-owned model's queryset answers `for_user(user)`.

Views fetch partner-owned objects only through it, so another studio's object is a 404.
Studio staff (reviewers and programme admins) see every studio's objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.models import User

_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    """A queryset of a partner-owned model: `TenantQuerySet["Job"]` (QuerySet's own subscript, a no-op at run time)."""

    #: the lookup from this model to its Organization; models override it when the path is longer
    organization_lookup = "organization"

    def for_user(self, user: User | AnonymousUser | None) -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_studio_staff:
            return self
        # A list of the person's studio ids (one, in practice) keeps the query on the organisation index;
        # joining through memberships made the database read and sort all of a studio's rows for each page.
        from portal.models import Membership

        studio_ids = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
        return self.filter(**{f"{self.organization_lookup}__in": studio_ids})
