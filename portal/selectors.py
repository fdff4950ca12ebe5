"""Reads about people and studios."""

from django.db.models import Count, QuerySet

from portal.models import Membership, Organization, User


def membership_for_user(user: User) -> Membership | None:
    if not user.is_authenticated or user.is_studio_staff:
        return None
    return Membership.objects.select_related("organization").filter(user=user).first()


def teammates_for_organization(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("role", "user__email")


def organizations_overview() -> QuerySet[Organization]:
    return Organization.objects.annotate(member_count=Count("memberships")).order_by("name")
