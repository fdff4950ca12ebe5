import secrets
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from portal.models import AgreementVersion, Cohort, Invite, Membership, Organization, User
from portal.services.invites import hash_token
from webhooks import signing

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
        kwargs["token_hash"] = hash_token(token)
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


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """A studio's webhook endpoint on a public https URL (never called unless a test delivers to it)."""

    class Meta:
        model = "webhooks.WebhookEndpoint"

    organization = factory.SubFactory(OrganizationFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.studio.test/greenlight")
    events = factory.LazyFunction(lambda: ["job.succeeded", "job.failed"])
    secret = factory.LazyFunction(signing.secret_generate)


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An active read-and-write API key of a studio, created by one of its owners. The raw key is on `key.raw_key`;
    the database keeps only its SHA-256."""

    class Meta:
        model = "api.ApiKey"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Pipeline {n}")
    created_by = factory.LazyAttribute(lambda o: OwnerFactory(organization=o.organization).user)
    scopes = factory.LazyFunction(lambda: ["read", "write"])
    prefix = "unset"
    key_hash = "unset"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from api.services import KEY_PREFIX, hash_key

        prefix = KEY_PREFIX + secrets.token_hex(4)
        raw_key = f"{prefix}_{secrets.token_urlsafe(32)}"
        kwargs.update(prefix=prefix, key_hash=hash_key(raw_key))
        key = super()._create(model_class, *args, **kwargs)
        key.raw_key = raw_key
        return key


# --- Surveys and blind comparisons ------------------------------------------------------------------------------------
class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "beta.Survey"

    title = factory.Sequence(lambda n: f"Weekly check-in {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "beta.Question"

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n)
    kind = "rating"
    prompt = factory.Sequence(lambda n: f"How useful was the tool this week? ({n})")


class SurveyAssignmentFactory(factory.django.DjangoModelFactory):
    """A survey open now to a cohort (opened a day ago, due in a week)."""

    class Meta:
        model = "beta.SurveyAssignment"

    survey = factory.SubFactory(SurveyFactory)
    cohort = factory.SubFactory(CohortFactory)
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


def comparable_output(organization, *, input_asset=None, tool_slug="noop", tool_version="1.0.0", filename=None):
    """A succeeded job of the studio on `input_asset` (made when not given) and its one output (a ready asset)."""
    from beta.models import Job, JobInput, JobOutput

    input_asset = input_asset or AssetFactory(organization=organization, sha256="ab" * 32)
    job = Job.objects.create(organization=organization, tool_slug=tool_slug, tool_version=tool_version,
                             status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    JobInput.objects.create(job=job, asset=input_asset, position=0, sha256=input_asset.sha256)
    asset = AssetFactory(organization=organization, origin="output",
                         original_filename=filename or f"{tool_slug}-{tool_version}-out.mp4")
    return JobOutput.objects.create(job=job, asset=asset, label=f"{tool_slug} output")


class ComparisonFactory(factory.django.DjangoModelFactory):
    """A comparison of two outputs (versions 1.0.0 and 1.1.0 of one tool) made from one input of the studio."""

    class Meta:
        model = "beta.Comparison"

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Plate {n}")
    output_a = factory.LazyAttribute(lambda o: comparable_output(o.organization, tool_version="1.0.0"))
    output_b = factory.LazyAttribute(
        lambda o: comparable_output(o.organization, input_asset=o.output_a.job.job_inputs.get().asset,
                                    tool_version="1.1.0")
    )
    label_a = "noop 1.0.0"
    label_b = "noop 1.1.0"


# --- Feedback ---------------------------------------------------------------------------------------------------------
class FeedbackReportFactory(factory.django.DjangoModelFactory):
    """A submitted report (revision 1) on a finished job of the studio, by a member of it."""

    class Meta:
        model = "beta.FeedbackReport"

    organization = factory.SubFactory(OrganizationFactory)
    job = factory.LazyAttribute(lambda o: JobFactory(organization=o.organization))
    author = factory.LazyAttribute(lambda o: MembershipFactory(organization=o.organization).user)
    tool_slug = factory.LazyAttribute(lambda o: o.job.tool_slug)
    tool_version = factory.LazyAttribute(lambda o: o.job.tool_version)
    status = "new"
    overall_rating = 4
    quality_rating = 4
    usefulness_rating = 3
    production_fit = "with_changes"
    hours_saved = 1.5
    text = "Usable with a grade pass; some banding in the sky."
    revision = 1
    submitted_at = factory.LazyFunction(timezone.now)
    revised_at = factory.LazyAttribute(lambda o: o.submitted_at)
