"""The one tenant mechanism: every partner-owned model's queryset answers `for_user(user)`.

Views fetch partner-owned objects only through it, so another studio's object is a 404.
Studio staff (reviewers and programme admins) see every studio's objects.
"""

from django.db import models


class TenantQuerySet(models.QuerySet):
    #: the lookup from this model to its Organization; models override it when the path is longer
    organization_lookup = "organization"

    def for_user(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_studio_staff:
            return self
        # A list of the person's studio ids (one, in practice) keeps the query on the organisation index;
        # joining through memberships made the database read and sort all of a studio's rows for each page.
        from portal.models import Membership

        studio_ids = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
        return self.filter(**{f"{self.organization_lookup}__in": studio_ids})
