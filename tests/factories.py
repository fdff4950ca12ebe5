import secrets
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from portal import services
from portal.models import AgreementVersion, Cohort, Invite, Membership, Organization, User

PASSWORD = "correct-horse-battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSECRETABCDEF"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@studio.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class StaffFactory(UserFactory):
    """A studio reviewer with TOTP set up (staff must have MFA)."""

    staff_role = User.StaffRole.REVIEWER

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            from allauth.mfa.totp.internal.auth import TOTP

            TOTP.activate(self, TOTP_SECRET)


class AdminFactory(StaffFactory):
    staff_role = User.StaffRole.ADMIN
    is_staff = True


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Wave {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=60))


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Studio {n}")
    slug = factory.Sequence(lambda n: f"studio-{n}")
    cohort = factory.SubFactory(CohortFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


class OwnerFactory(MembershipFactory):
    role = Membership.Role.OWNER


class InviteFactory(factory.django.DjangoModelFactory):
    """A pending invite. Its raw token is on `invite.token`; the database keeps only the hash."""

    class Meta:
        model = Invite

    email = factory.Sequence(lambda n: f"invitee{n}@studio.test")
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER
    token_hash = "unset"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = secrets.token_urlsafe(32)
        kwargs["token_hash"] = services.hash_token(token)
        invite = super()._create(model_class, *args, **kwargs)
        invite.token = token
        return invite


class AgreementVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementVersion

    version = factory.Sequence(lambda n: f"1.{n}")
    title = "Beta agreement"
    text = "You keep your material. We use it only to run the tools you ask for."
    published_at = factory.LazyFunction(timezone.now)


class AssetFactory(factory.django.DjangoModelFactory):
    """A ready asset (its bytes are not stored: for tests of pages and permissions)."""

    class Meta:
        model = "assets.Asset"

    organization = factory.SubFactory(OrganizationFactory)
    kind = "video"
    original_filename = factory.Sequence(lambda n: f"plate_{n:03d}.mov")
    size_bytes = 1024
    status = "ready"
    previews = "none"
    storage_key = factory.LazyAttribute(lambda o: f"orgs/{o.organization.uuid}/assets/missing/original")


class DeletionReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "assets.DeletionReceipt"

    organization = factory.SubFactory(OrganizationFactory)
    organization_name = factory.LazyAttribute(lambda o: o.organization.name)
    scope = "asset"


class JobFactory(factory.django.DjangoModelFactory):
    """A finished job row (no worker involved): for tests of pages and permissions."""

    class Meta:
        model = "beta.Job"

    organization = factory.SubFactory(OrganizationFactory)
    tool_slug = "noop"
    tool_version = "1.0.0"
    status = "failed"
    error = "The plate has no audio track."
