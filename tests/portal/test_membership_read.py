"""`membership_of`: a person's membership, studio and cohort in one hand-written statement, equal to what the ORM
reads, with every field converted as a queryset converts it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.models import Membership
from portal.selectors import membership_for_user, membership_of
from tests.factories import CohortFactory, MembershipFactory, OrganizationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def as_orm_reads(membership: Membership):
    orm = Membership.objects.select_related("organization", "organization__cohort").get(pk=membership.pk)
    return orm, orm.organization, orm.organization.cohort


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_members_read_is_the_orms_field_for_field_with_its_studio_and_cohort_in_one_statement():
    cohort = CohortFactory(description="March wave: battle scenes")
    studio = OrganizationFactory(cohort=cohort, suspended_at=timezone.now(), suspended_reason="Invoice overdue")
    membership = MembershipFactory(organization=studio, role=Membership.Role.VIEWER)
    MembershipFactory(organization=studio)  # a teammate: not read

    with CaptureQueriesContext(connection) as queries:
        read = membership_of(membership.user)
        organization, read_cohort = read.organization, read.organization.cohort
        assert read.user is membership.user  # the person asked about, not read again
    assert len(queries) == 1

    orm, orm_organization, orm_cohort = as_orm_reads(membership)
    assert field_values(read) == field_values(orm)
    assert field_values(organization) == field_values(orm_organization)
    assert field_values(read_cohort) == field_values(orm_cohort)
    assert isinstance(organization.uuid, type(orm_organization.uuid))  # converted, not the database's text
    assert organization.suspended_at == orm_organization.suspended_at
    assert organization.suspended_at.tzinfo
    assert read.role == Membership.Role.VIEWER
    assert read._state.db == orm._state.db
    assert not read._state.adding
    assert read.get_role_display() == "Viewer"


def test_a_studio_without_a_cohort_reads_as_none_and_a_person_without_a_studio_as_none():
    membership = MembershipFactory(organization=OrganizationFactory(cohort=None))
    with CaptureQueriesContext(connection) as queries:
        read = membership_of(membership.user)
        assert read.organization.cohort is None
    assert len(queries) == 1
    assert field_values(read.organization) == field_values(as_orm_reads(membership)[1])
    assert membership_of(UserFactory()) is None


def test_staff_have_no_partner_membership_however_they_are_recorded():
    staff = StaffFactory()
    MembershipFactory(user=staff)
    assert membership_of(staff) is not None
    assert membership_for_user(staff) is None
