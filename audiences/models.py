from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# Behavioural events of contacts (audiences.events).
from base.zones import zone_normal

from .addresses import email_key, phone_key
from .events import ContactEvent as ContactEvent
from .phones import normalize_phone
from .rules import RuleError, group_condition, rule_condition

# The suppression list (audiences.suppression).
from .suppression import Suppression as Suppression

# Defined beside the rules that read it; the app's models are all imported from here.
from .variables import Variable as Variable


class ContactQuerySet(models.QuerySet["Contact"]):
    def reachable(self) -> "ContactQuerySet":
        """Contacts that have not opted out."""
        return self.filter(opted_out_at__isnull=True)


class Contact(models.Model):
    phone = models.CharField(
        max_length=16,
        unique=True,
        help_text="Mobile number with its country code, stored in E.164 form "
        "(+525500998877). Numbers without + are read in the default country.",
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    data = models.JSONField(
        default=dict,
        blank=True,
        help_text="Custom data used in message templates, e.g. "
        '{"NOMBRE": "Carlos", "MONTO": 1200, "FECHA": "2016-12-25"}.',
    )
    opted_out_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the contact asked to receive nothing more.",
    )
    opt_out_source = models.CharField(max_length=100, blank=True, editable=False)
    timezone = models.CharField(
        "time zone",
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="Where the contact lives, as an IANA zone (America/Mexico_City), "
        "for active hours and sending at a local time. Empty: the zone of the "
        "phone number where it has one, else the campaign's.",
    )
    # Keyed hashes of the phone and email (audiences.addresses), matched against
    # the suppression list; kept by every writer of phone or email.
    phone_key = models.CharField(
        max_length=32, blank=True, editable=False, default="", db_default=""
    )
    email_key = models.CharField(
        max_length=32, blank=True, editable=False, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["opted_out_at"],
                name="contact_opted_out_idx",
                condition=models.Q(opted_out_at__isnull=False),
            ),
            # The holders of an email just suppressed (a bounce, an unsubscribe);
            # a phone's holder is found by the phone itself.
            models.Index(
                fields=["email_key"],
                name="contact_email_key_idx",
                condition=~models.Q(email_key=""),
            ),
        ]
        permissions = [
            ("import_contact", "Can import contacts"),
            ("export_contact", "Can export contacts"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.handle})" if self.name else self.handle

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.phone_key = phone_key(self.phone)
        self.email_key = email_key(self.email)
        fields = kwargs.get("update_fields")
        if fields is not None:
            fields = set(fields)
            if "phone" in fields:
                fields.add("phone_key")
            if "email" in fields:
                fields.add("email_key")
            kwargs["update_fields"] = fields
        super().save(*args, **kwargs)

    @property
    def handle(self) -> str:
        """What tells the contact apart when it has no name: its phone, else its
        email, never a blank."""
        return self.phone or self.email or f"contact {self.pk}"

    def clean(self) -> None:
        self.timezone = zone_normal(self.timezone)  # "GMT-5" is Etc/GMT+5
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(
                    {
                        "timezone": f"{self.timezone!r} is not a time zone (e.g. "
                        "America/Mexico_City, Europe/Madrid)."
                    }
                ) from None
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None
        if not isinstance(self.data, dict):
            raise ValidationError(
                {"data": "Custom data must be an object of NAME: value pairs."}
            )

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None


class AudienceGroup(models.Model):
    class Kind(models.TextChoices):
        STATIC = "static", "Static (listed or imported members)"
        DYNAMIC = "dynamic", "Dynamic (contacts matching conditions)"

    class Match(models.TextChoices):
        ALL = "all", "All conditions"
        ANY = "any", "Any condition"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STATIC)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    contacts: "models.ManyToManyField[Contact, Membership]" = models.ManyToManyField(
        Contact, through="Membership", related_name="audience_groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "audience group"

    def __str__(self) -> str:
        return self.name

    def members(self) -> ContactQuerySet:
        """Every contact of the group, opted out or not: the listed members of a
        static group, or the contacts matching a dynamic group's rules."""
        if self.kind == self.Kind.DYNAMIC:
            return Contact.objects.filter(group_condition(self.rules.all(), self.match))
        return Contact.objects.filter(memberships__group=self)


class Membership(models.Model):
    # No database-level constraints: each check locks the referenced contact row
    # (FOR KEY SHARE), which made a million-contact import spend about a third of its
    # write phase on them. Memberships are written only by set-wise SQL that joins
    # existing contacts, and Django's collector still deletes them with their contact
    # or group.
    group = models.ForeignKey(
        AudienceGroup,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_constraint=False,
        db_index=False,  # the unique (group, contact) index serves it
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_constraint=False,
        db_index=False,  # membership_contact_idx below
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "contact"], name="membership_unique_contact_per_group"
            ),
        ]
        indexes = [models.Index(fields=["contact"], name="membership_contact_idx")]

    def __str__(self) -> str:
        return f"{self.contact} in {self.group}"


class ImportJob(models.Model):
    """One contact file being imported: analysed into staging rows, then applied."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ANALYSING = "analysing", "Reading the file"
        READY = "ready", "Ready to import"
        APPLYING = "applying", "Importing"
        DONE = "done", "Imported"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class OnDuplicate(models.TextChoices):
        UPDATE = "update", "Update existing contacts"
        IGNORE = "ignore", "Leave existing contacts as they are"

    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, editable=False)
    file_size = models.PositiveBigIntegerField(default=0, editable=False)
    # None until applied for an import into a new group, named by new_group: a
    # refused, failed or cancelled import leaves no group behind.
    group = models.ForeignKey(
        AudienceGroup,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        null=True,
        blank=True,
        # What the import page's search offers: contacts go into static groups.
        limit_choices_to={"kind": "static"},
    )
    new_group = models.CharField(
        max_length=AudienceGroup._meta.get_field("name").max_length or 200,
        blank=True,
        editable=False,
        help_text="The static group created when the contacts are imported.",
    )
    on_duplicate = models.CharField(
        max_length=6, choices=OnDuplicate.choices, default=OnDuplicate.UPDATE
    )
    all_or_nothing = models.BooleanField(
        default=False,
        help_text="Import nothing at all if any row is rejected.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, editable=False
    )
    cancel_requested = models.BooleanField(default=False, editable=False)
    progress = models.FloatField(default=0, editable=False, help_text="0 to 1")
    rows_read = models.PositiveIntegerField(default=0, editable=False)
    rows_valid = models.PositiveIntegerField(default=0, editable=False)
    rows_rejected = models.PositiveIntegerField(default=0, editable=False)
    to_create = models.PositiveIntegerField(default=0, editable=False)
    to_update = models.PositiveIntegerField(default=0, editable=False)
    to_suppress = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Rows whose phone or email is on the suppression list, or that "
        "the UNSUBSCRIBED column puts there.",
    )
    created = models.PositiveIntegerField(default=0, editable=False)
    updated = models.PositiveIntegerField(default=0, editable=False)
    unchanged = models.PositiveIntegerField(default=0, editable=False)
    error = models.TextField(blank=True, editable=False)
    rejections = models.JSONField(
        default=list, editable=False, help_text="The first rejected rows."
    )
    rejects_path = models.CharField(max_length=500, blank=True, editable=False)
    variables = models.JSONField(
        default=dict, editable=False, help_text="The file's variables and their types."
    )
    default_country = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Numbers read in the default country (PHONE_DEFAULT_REGION) for "
        "want of a country code: count, country and the first rows.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Written with every step of the job (queued, each batch read, each change of
    # status): a running job whose mark grows old has lost its worker.
    progressed_at = models.DateTimeField(
        default=timezone.now,
        editable=False,
        help_text="When the job last moved on.",
    )
    apply_attempts = models.PositiveSmallIntegerField(
        default=0,
        editable=False,
        help_text="Times a worker started writing the job's contacts.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.group_label}"

    @property
    def group_label(self) -> str:
        """The group's name, or the new group's with "(new)" until it is made."""
        if self.group_id is not None:
            return str(self.group)
        return f"{self.new_group} (new)"


class ImportRow(models.Model):
    """A valid row of an import, staged until the job is applied or dropped."""

    # No index of its own: (job, phone) starts with job. No database constraint
    # either: staging rows live minutes, and a constraint check per COPYed row
    # costs more than the rows are worth; deleting a job still deletes them.
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    row = models.PositiveIntegerField()
    phone = models.CharField(max_length=16)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    data = models.JSONField(default=dict)
    timezone = models.CharField(max_length=64, blank=True, default="")
    # UNSUBSCRIBED: the row's phone and email go on the suppression list.
    suppress = models.BooleanField(default=False)
    phone_key = models.CharField(max_length=32, blank=True, default="")
    email_key = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["job", "phone"], name="importrow_job_phone_idx")
        ]

    def __str__(self) -> str:
        return f"row {self.row}: {self.phone}"


class GroupRule(models.Model):
    """One condition of a dynamic group (A3, seed 004)."""

    class Op(models.TextChoices):
        EQUALS = "equals", "equals"
        DIFFERS = "differs", "differs from"
        CONTAINS = "contains", "contains"
        GREATER = "gt", "is greater than"
        LESS = "lt", "is less than"
        BEFORE = "before", "is before"
        AFTER = "after", "is after"
        IS_SET = "is_set", "is set"
        IS_EMPTY = "is_empty", "is empty"

    group = models.ForeignKey(
        AudienceGroup, on_delete=models.CASCADE, related_name="rules"
    )
    field = models.CharField(
        max_length=64,
        help_text="PHONE, NAME, EMAIL, OPTED_OUT, or a custom-data variable (NOMBRE).",
    )
    op = models.CharField("condition", max_length=10, choices=Op.choices)
    value = models.CharField(
        max_length=200,
        blank=True,
        help_text="Numbers as 1200, dates as YYYY-MM-DD; empty for is set / is empty.",
    )

    class Meta:
        ordering = ["group", "id"]

    def __str__(self) -> str:
        return f"{self.field} {self.get_op_display()} {self.value}".strip()

    def clean(self) -> None:
        try:
            rule_condition(self)
        except RuleError as exc:
            raise ValidationError({exc.field: exc.message}) from None
