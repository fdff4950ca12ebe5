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


class Organization(TimeStamped):
    """A partner studio taking part in the beta."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)
    seat_limit = models.PositiveIntegerField(default=10)
    storage_quota_bytes = models.PositiveBigIntegerField(default=500 * 1024**3)
    monthly_job_quota = models.PositiveIntegerField(default=500)
    max_concurrent_jobs = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["name"]
        verbose_name = "studio"
        verbose_name_plural = "studios"

    def __str__(self) -> str:
        return self.name


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
