"""Journeys: the contacts on a flow version, and the cohorts they started in
(imported in flows.models, where Django finds them)."""

from django.db import models


class Cohort(models.Model):
    """Journeys started together on one flow version: the group of one campaign run,
    or everyone an event or the audience schedule puts on the version (its entries
    cohort, one per version). Its messages go in one messaging batch, which carries
    its texts, sender and active hours."""

    flow_version = models.ForeignKey(
        "flows.FlowVersion", on_delete=models.PROTECT, related_name="cohorts"
    )
    batch = models.OneToOneField(
        "messaging.Batch", on_delete=models.PROTECT, related_name="cohort"
    )
    for_entries = models.BooleanField(
        default=False,
        help_text="The version's cohort for contacts put on it by events or its "
        "audience schedule, each at most once per entry key.",
    )
    held = models.BooleanField(
        default=False,
        help_text="Its journeys wait where they are (a suspended campaign) until it "
        "is released.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow_version"],
                condition=models.Q(for_entries=True),
                name="cohort_one_for_entries",
            ),
        ]

    def __str__(self) -> str:
        return f"Cohort {self.pk}"


class Journey(models.Model):
    """One contact on one flow version: where it is, and when it moves on.

    A campaign run puts each member of its group on the flow (one journey per cohort
    and contact); events and audience schedules put contacts on flows through the
    version's entries cohort, once per entry key. The engine (flows.engine) is the
    only writer of ``step``, ``status`` and ``due_at``.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "On the flow"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Stopped by an error"

    # No database foreign-key checks: journeys are inserted a million at a time from
    # rows that exist, and each check would lock the referenced row.
    flow = models.ForeignKey(
        "flows.Flow",
        on_delete=models.CASCADE,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    flow_version = models.ForeignKey(
        "flows.FlowVersion",
        on_delete=models.PROTECT,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    # The unique (cohort, contact) key starts with cohort.
    cohort = models.ForeignKey(
        "flows.Cohort",
        on_delete=models.CASCADE,
        related_name="journeys",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "audiences.Contact",
        on_delete=models.CASCADE,
        related_name="journeys",
        db_constraint=False,
    )
    step = models.PositiveSmallIntegerField(
        help_text="The position of the step the contact is at."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the contact moves on (after a wait)."
    )
    hops = models.PositiveIntegerField(
        default=0, help_text="Steps taken; a runaway loop is stopped."
    )
    awaiting_reply = models.BooleanField(
        default=False,
        db_default=False,
        help_text="At a wait-for-a-reply step, waiting: the contact's reply moves it "
        "on, and due_at is when it stops waiting.",
    )
    entry_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="What put the contact on the flow: an event id, or an audience "
        "period. A contact enters at most once per key.",
    )
    context = models.JSONField(
        default=dict,
        blank=True,
        help_text="The properties of the event that put the contact on the flow; "
        "templates read them like custom data ({{order_id}}).",
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A campaign run's cohort holds each contact once; an entries cohort
            # holds a contact once per entry key (the next constraint).
            models.UniqueConstraint(
                fields=["cohort", "contact"],
                condition=models.Q(entry_key=""),
                name="journey_once_per_cohort",
            ),
            models.UniqueConstraint(
                fields=["flow", "contact", "entry_key"],
                condition=~models.Q(entry_key=""),
                name="journey_once_per_entry_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="journey_due_idx",
                condition=models.Q(status="active"),
            ),
            # A flow's journeys, by status, newest first: the journeys list filtered
            # by flow (JourneyAdmin.get_ordering), with or without a status.
            models.Index(
                fields=["flow", "status", "-id"], name="journey_flow_status_id_idx"
            ),
            # Journeys that stopped early are few and looked for (active ones are
            # found through journey_due_idx, ended ones by scanning newest first).
            models.Index(
                fields=["-id"],
                name="journey_stopped_idx",
                condition=models.Q(status__in=["cancelled", "failed"]),
            ),
            # Journeys waiting for a reply, newest first: the list's "waiting for
            # a reply" filter, a few among millions.
            models.Index(
                fields=["-id"],
                name="journey_waiting_reply_idx",
                condition=models.Q(awaiting_reply=True),
            ),
        ]

    def __str__(self) -> str:
        # Lists read the contact with the journey (list_select_related, and the
        # admin's deletion summary), so naming it costs them no query.
        return f"Journey {self.pk} of {self.contact}, {self.status}"
