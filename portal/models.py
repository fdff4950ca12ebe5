import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from portal.tenancy import TenantQuerySet


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, staff_role=User.StaffRole.ADMIN)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person: a partner studio's member, or studio staff (reviewer or programme admin)."""

    class StaffRole(models.TextChoices):
        NONE = "", "Partner"
        REVIEWER = "reviewer", "Studio reviewer"
        ADMIN = "admin", "Programme admin"

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    staff_role = models.CharField(max_length=16, choices=StaffRole.choices, blank=True, default=StaffRole.NONE)
    # An IANA name ("America/Los_Angeles"); blank = not detected yet, times show in UTC. See portal.timezones.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="portal_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_studio_staff(self) -> bool:
        """Reviewers and programme admins: the studio's own people, never members of a partner studio."""
        return self.staff_role in (self.StaffRole.REVIEWER, self.StaffRole.ADMIN)

    @property
    def is_programme_admin(self) -> bool:
        return self.staff_role == self.StaffRole.ADMIN

    @property
    def is_reviewer(self) -> bool:
        return self.staff_role == self.StaffRole.REVIEWER


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user):
        """A partner sees their own studio; staff see every studio."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_studio_staff:
            return self
        return self.filter(memberships__user=user)


class Organization(TimeStamped):
    """A partner studio taking part in the beta."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)
    seat_limit = models.PositiveIntegerField(default=10)
    storage_quota_bytes = models.PositiveBigIntegerField(default=500 * 1024**3)
    monthly_job_quota = models.PositiveIntegerField(default=500)
    monthly_compute_minutes = models.PositiveIntegerField(default=6000)
    max_concurrent_jobs = models.PositiveSmallIntegerField(default=2)
    cohort = models.ForeignKey(
        "portal.Cohort", null=True, blank=True, on_delete=models.PROTECT, related_name="organizations"
    )
    #: SSE-KMS key for this studio's objects; empty means the default (SSE-S3, or AWS_S3_KMS_KEY_ID)
    kms_key_id = models.CharField("KMS key id", max_length=255, blank=True)
    #: Suspension (portal/lifecycle.py): reversible; every door refuses the studio while it is set.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=500, blank=True)
    suspended_by = models.ForeignKey(
        "portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Offboarding (portal/lifecycle.py): final; the studio has left the beta and its material is deleted.
    offboarded_at = models.DateTimeField(null=True, blank=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "studio"
        verbose_name_plural = "studios"

    def __str__(self) -> str:
        return self.name

    @property
    def is_active_in_beta(self) -> bool:
        """The one predicate every door asks (sign-in, invites, API keys, webhooks, jobs): may this studio use the
        beta now? Not when deactivated, suspended or offboarded."""
        return self.is_active and self.suspended_at is None and self.offboarded_at is None


class MembershipQuerySet(TenantQuerySet):
    pass


class Membership(TimeStamped):
    """A person's place in a partner studio."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            # One studio per person: the beta does not support people in two partner studios.
            models.UniqueConstraint(fields=["user"], name="portal_membership_one_studio_per_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "member", "viewer"]), name="portal_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class Cohort(TimeStamped):
    """A wave of the beta ("March wave 1"): partners run tools only while it is open."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()

    class Meta:
        ordering = ["opens_at", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="portal_cohort_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InviteQuerySet(TenantQuerySet):
    def pending(self, now=None):
        from django.utils import timezone

        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)

    def with_status(self, status: str, now=None):
        from django.utils import timezone

        now = now or timezone.now()
        if status == "pending":
            return self.pending(now)
        if status == "accepted":
            return self.filter(accepted_at__isnull=False)
        if status == "revoked":
            return self.filter(accepted_at__isnull=True, revoked_at__isnull=False)
        if status == "expired":
            return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)
        return self


class Invite(TimeStamped):
    """An invitation to join a studio. Only the SHA-256 of its token is stored."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    email = models.EmailField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites_sent")
    expires_at = models.DateTimeField()
    sent_count = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(Lower("email"), name="portal_invite_email_ci"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "member", "viewer"]), name="portal_invite_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def status(self) -> str:
        from django.utils import timezone

        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class AgreementVersion(TimeStamped):
    """A version of the beta agreement (NDA and beta terms). The latest published one is current."""

    version = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class AgreementAcceptance(models.Model):
    """Who accepted which agreement version, when and from where."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agreement_acceptances")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="portal_acceptance_once_per_version")]

    def __str__(self) -> str:
        return f"{self.user} accepted v{self.version.version}"


class AuditEvent(models.Model):
    """One line of the audit trail. Kept when the actor or the studio is deleted (names are copied)."""

    class Action(models.TextChoices):
        INVITE_CREATED = "invite.created", "Invite created"
        INVITE_RESENT = "invite.resent", "Invite resent"
        INVITE_REVOKED = "invite.revoked", "Invite revoked"
        INVITE_ACCEPTED = "invite.accepted", "Invite accepted"
        LOGIN_SUCCEEDED = "login.succeeded", "Sign-in succeeded"
        LOGIN_FAILED = "login.failed", "Sign-in failed"
        MFA_ADDED = "mfa.added", "MFA method added"
        MFA_REMOVED = "mfa.removed", "MFA method removed"
        AGREEMENT_ACCEPTED = "agreement.accepted", "Agreement accepted"
        AGREEMENT_PUBLISHED = "agreement.published", "Agreement published"
        AGREEMENT_DRAFTED = "agreement.drafted", "Agreement draft saved"
        ROLE_CHANGED = "membership.role_changed", "Role changed"
        MEMBERSHIP_REMOVED = "membership.removed", "Member removed"
        STUDIO_CREATED = "studio.created", "Studio created"
        STUDIO_UPDATED = "studio.updated", "Studio updated"
        COHORT_CREATED = "cohort.created", "Cohort created"
        COHORT_UPDATED = "cohort.updated", "Cohort updated"
        ASSET_UPLOADED = "asset.uploaded", "Asset uploaded"
        ASSET_REJECTED = "asset.rejected", "Asset rejected"
        ASSET_DOWNLOADED = "asset.downloaded", "Asset downloaded"
        ASSET_VIEWED = "asset.viewed", "Asset preview watched"
        ASSET_DELETED = "asset.deleted", "Asset deleted"
        ASSET_TOOL_READ = "asset.tool_read", "Asset read by a tool run"
        ASSET_API_READ = "asset.api_read", "Asset details read through the API"
        ASSET_STAFF_OPENED = "asset.staff_opened", "Asset page opened by AI Studio staff"
        STUDIO_OFFBOARDED = "studio.offboarded", "Studio offboarded"
        STUDIO_SUSPENDED = "studio.suspended", "Studio suspended"
        STUDIO_SUSPENSION_LIFTED = "studio.suspension_lifted", "Studio suspension lifted"
        DATA_PURGED = "studio.purged", "Data purged after retention"
        RECEIPT_DOWNLOADED = "receipt.downloaded", "Deletion receipt downloaded"
        API_KEY_CREATED = "api_key.created", "API key created"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        API_KEY_USED = "api_key.used", "API key used"
        DATA_EXPORTED = "data.exported", "Data exported (CSV, XLSX, results report)"
        WEBHOOK_CREATED = "webhook.created", "Webhook endpoint created"
        WEBHOOK_UPDATED = "webhook.updated", "Webhook endpoint changed"
        WEBHOOK_DELETED = "webhook.deleted", "Webhook endpoint deleted"
        WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated", "Webhook signing secret rotated"
        WEBHOOK_TESTED = "webhook.tested", "Webhook test event sent"
        WEBHOOK_DISABLED = "webhook.disabled", "Webhook endpoint disabled after failures"
        TOOL_SWITCHED = "tool.switched", "Tool availability changed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    organization_name = models.CharField(max_length=200, blank=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    #: The hash chain (portal/audit_chain.py): the previous row's hash and the SHA-256 of this row's canonical content.
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-at"]),
            models.Index(fields=["action", "-at"]),
            # A studio's access log: what was read of one asset, newest first.
            models.Index(fields=["target_type", "target_id", "-at"], name="portal_audit_target_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_email or 'system'}"


# --- Notifications ----------------------------------------------------------------------------------------------------
class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user) -> "NotificationQuerySet":
        """A person's own notifications, and nobody else's: staff too see only what was meant for them."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something that happened that one person should know of (a job finished, a reply, a survey opened).

    `organization` is the studio whose data it concerns (none for what concerns no studio); `url` is a path in the
    portal. `channel` is how the person chose to hear of this kind when it was made: in the portal only, by email at
    once, or in the day's digest (`digested_at` set once the digest listed it).
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the portal only"
        EMAIL = "email", "Email at once"
        DIGEST = "digest", "Daily email digest"

    recipient = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.IN_APP)
    #: one notification per person per key ("survey.due_soon:12"): a repeated event does not notify twice
    dedupe_key = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="portal_notification_list"),
            # the bell's COUNT reads this partial index alone
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True),
                         name="portal_notification_unread"),
            models.Index(fields=["recipient"], condition=models.Q(channel="digest", digested_at__isnull=True),
                         name="portal_notification_digest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""),
                                    name="portal_notification_once_per_key"),
            models.CheckConstraint(condition=models.Q(channel__in=["in_app", "email", "digest"]),
                                   name="portal_notification_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"


class NotificationPreference(models.Model):
    """How one person wants to hear of one kind of notification; no row means the kind's default."""

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=8, choices=Notification.Channel.choices)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="portal_notificationpreference_one_per_kind"),
            models.CheckConstraint(condition=models.Q(channel__in=["in_app", "email", "digest"]),
                                   name="portal_notificationpreference_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"


class NotificationDigest(models.Model):
    """The one digest email of a person's day: its row is written before the email, so a second run skips it."""

    recipient = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    items = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "recipient"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="portal_notificationdigest_one_a_day")]

    def __str__(self) -> str:
        return f"digest {self.day} for {self.recipient_id}"
