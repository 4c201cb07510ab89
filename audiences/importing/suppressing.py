"""An import's UNSUBSCRIBED column: the marked rows' phones and emails put on the
suppression list as the import is applied, and the preview's count of rows whose
addresses are (or will be) on it."""

from django.db import connection
from django.utils import timezone

from audiences.models import Contact, ImportJob, ImportRow, Suppression
from audiences.suppressing import suppression_entries, suppression_listeners
from base.audit import audit_record

CHUNK = 2000


def staged_suppress(job: ImportJob) -> int:
    """Put the phone and email of every staged row of ``job`` marked UNSUBSCRIBED on
    the suppression list (reason "import"); addresses already on it keep their
    first entry. Return the rows marked. Runs inside the caller's transaction."""
    now = timezone.now()
    marked = 0
    flagged = (
        ImportRow.objects.filter(job=job, suppress=True)
        .order_by("row")
        .values_list("row", "phone", "email", "phone_key", "email_key")
    )
    rows = list(flagged[:CHUNK])
    while rows:
        entries = []
        for row, phone, email, phone_hash, email_hash in rows:
            entries += suppression_entries(
                phone=(phone, phone_hash),
                email=(email, email_hash),
                reason=Suppression.Reason.IMPORT,
                source=f"import {job.pk}, row {row}",
                now=now,
                user_id=job.created_by_id,
            )
        # ON CONFLICT DO NOTHING: an address on the list keeps its first reason.
        Suppression.objects.bulk_create(entries, ignore_conflicts=True)
        _tell_listeners(rows)
        marked += len(rows)
        rows = list(flagged.filter(row__gt=rows[-1][0])[:CHUNK])
    if marked:
        audit_record(
            action="suppress",
            target=job,
            note=f"{marked} rows marked UNSUBSCRIBED: their phones and emails are "
            "on the suppression list",
        )
    return marked


def _tell_listeners(rows: list[tuple[int, str, str, str, str]]) -> None:
    """What holds messages for contacts already known stops them (as for any
    suppression); the contacts this import creates hold none yet."""
    if not suppression_listeners:
        return
    # A phone's holders by the (unique) phone, an email's by its key's index.
    for kind, found in (
        (
            Suppression.Address.PHONE,
            Contact.objects.filter(phone__in=[row[1] for row in rows]),
        ),
        (
            Suppression.Address.EMAIL,
            Contact.objects.filter(email_key__in=[row[4] for row in rows if row[4]]),
        ),
    ):
        holders = list(found.values_list("pk", flat=True))
        if holders:
            for listener in suppression_listeners:
                listener(kind, holders)


def staged_suppressed_count(job: ImportJob) -> int:
    """The staged rows of ``job`` whose phone or email is on the suppression list,
    or that the UNSUBSCRIBED column marks: counted in one statement."""
    staging, table = ImportRow._meta.db_table, Suppression._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM {staging} s
            WHERE s.job_id = %s AND (
                s.suppress
                OR EXISTS (SELECT 1 FROM {table} p
                           WHERE p.address_kind = 'phone' AND p.key = s.phone_key)
                OR (s.email_key <> '' AND EXISTS (
                    SELECT 1 FROM {table} e
                    WHERE e.address_kind = 'email' AND e.key = s.email_key))
            )
            """,
            [job.pk],
        )
        (count,) = cursor.fetchone()
    return int(count)
