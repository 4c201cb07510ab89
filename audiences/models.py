from django.core.exceptions import ValidationError
from django.db import models

from .phones import normalize_phone


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
        ]
        permissions = [
            ("import_contact", "Can import contacts"),
            ("export_contact", "Can export contacts"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})" if self.name else self.phone

    def clean(self) -> None:
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
    rules = models.JSONField(
        default=list,
        blank=True,
        help_text="Conditions of a dynamic group, combined as chosen in 'match'.",
    )
    contacts: "models.ManyToManyField[Contact, Membership]" = models.ManyToManyField(
        Contact, through="Membership", related_name="audience_groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "audience group"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.DYNAMIC:
            raise ValidationError(
                {
                    "kind": "Dynamic groups cannot be saved yet: their condition "
                    "editor "
                    "is not built. Create a static group and add contacts to it."
                }
            )

    def members(self) -> ContactQuerySet:
        """Every contact of the group, opted out or not."""
        return Contact.objects.filter(memberships__group=self)


class Membership(models.Model):
    group = models.ForeignKey(
        AudienceGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="memberships"
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
