"""Applying an import: its staged rows written to contacts and the group, set-wise.

The contacts are upserted (custom data merged, opt-outs never touched), added to the
group, and the staging rows dropped, all in the caller's transaction: a failure
leaves the contacts as they were.
"""

from django.db import connection
from django.utils import timezone

from audiences.models import Contact, ImportJob, ImportRow, Membership, Variable

from .suppressing import staged_suppress


def staged_contacts_write(job: ImportJob) -> None:
    """Write the staged rows of ``job`` to contacts and its group, register its new
    variables and drop the staged rows; set created, updated and unchanged on the job
    (unsaved). Runs inside the caller's transaction."""
    if connection.vendor == "postgresql":
        # The upsert sorts and the membership insert hash-joins a million rows;
        # with the default 4 MB both spill to disk and run several times slower.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
    _register_variables(job)
    staged_suppress(job)
    job.created, job.updated, members_added = _upsert_contacts(job)
    job.unchanged = job.rows_valid - job.created - job.updated
    if members_added < job.rows_valid:
        # Contacts the upsert left alone (unchanged, or kept by "ignore") join
        # the group through their phone numbers.
        _add_members(job)
    ImportRow.objects.filter(job=job).delete()


def _register_variables(job: ImportJob) -> None:
    for name, kind in job.variables.items():
        Variable.objects.get_or_create(name=name, defaults={"kind": kind})


def _upsert_contacts(job: ImportJob) -> tuple[int, int, int]:
    """Insert new contacts and merge existing ones per the duplicate policy; return
    (created, updated, memberships added for them)."""
    contact, staging = Contact._meta.db_table, ImportRow._meta.db_table
    membership = Membership._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if job.on_duplicate == ImportJob.OnDuplicate.IGNORE:
        on_conflict = "DO NOTHING"
    else:
        if connection.vendor == "postgresql":
            merged, distinct = f"{contact}.data || EXCLUDED.data", "IS DISTINCT FROM"
            old_data = f"{contact}.data"
        else:
            merged, distinct = f"json_patch({contact}.data, EXCLUDED.data)", "IS NOT"
            old_data = f"json({contact}.data)"
        name = (
            f"CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE {contact}.name END"
        )
        email = (
            f"CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email "
            f"ELSE {contact}.email END"
        )
        email_key = (
            f"CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email_key "
            f"ELSE {contact}.email_key END"
        )
        zone = (
            f"CASE WHEN EXCLUDED.timezone <> '' THEN EXCLUDED.timezone "
            f"ELSE {contact}.timezone END"
        )
        # Rows that would not change are left alone: a re-import writes nothing.
        on_conflict = f"""DO UPDATE SET data = {merged}, name = {name}, email = {email},
                email_key = {email_key}, phone_key = EXCLUDED.phone_key,
                timezone = {zone}, updated_at = EXCLUDED.updated_at
            WHERE {merged} {distinct} {old_data}
               OR {name} {distinct} {contact}.name
               OR {email} {distinct} {contact}.email
               OR {zone} {distinct} {contact}.timezone"""
    # Keep the WHERE: SQLite parses ON CONFLICT after a SELECT only with one.
    # ORDER BY phone takes row locks in one order, so concurrent imports of
    # overlapping files cannot deadlock.
    upsert = f"""
        INSERT INTO {contact}
            (phone, name, email, data, timezone, phone_key, email_key,
             opt_out_source, created_at, updated_at)
        SELECT phone, name, email, data, timezone, phone_key, email_key, '', %s, %s
        FROM {staging} WHERE job_id = %s ORDER BY phone
        ON CONFLICT (phone) {on_conflict}
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement writes the contacts and the memberships of those it
            # wrote, from the ids it returns: no join of the staged rows with the
            # contacts table. A row inserted here has no xmax; an updated one has.
            cursor.execute(
                f"""
                WITH written AS ({upsert} RETURNING id, xmax = 0 AS inserted),
                added AS (
                    INSERT INTO {membership} (group_id, contact_id, added_at)
                    SELECT %s, id, %s FROM written ORDER BY id
                    ON CONFLICT DO NOTHING
                )
                SELECT count(*) FILTER (WHERE inserted),
                       count(*) FILTER (WHERE NOT inserted)
                FROM written
                """,
                [now, now, job.pk, job.group_id, now],
            )
            created, updated = cursor.fetchone()
            return created, updated, created + updated
        existing = (
            ImportRow.objects.filter(job=job)
            .filter(phone__in=Contact.objects.values("phone"))
            .count()
        )
        cursor.execute(upsert, [now, now, job.pk])
        created = job.rows_valid - existing
        return created, max(cursor.rowcount, 0) - created, 0


def _add_members(job: ImportJob) -> None:
    membership, contact = Membership._meta.db_table, Contact._meta.db_table
    staging = ImportRow._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # In contact order, the (group, contact) and contact indexes grow at their ends
    # instead of taking a million inserts at random places.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fresh staging rows have no statistics: without them the planner
            # expects one row and picks a million index lookups over a hash join.
            cursor.execute(f"ANALYZE {staging}")
        cursor.execute(
            f"""
            INSERT INTO {membership} (group_id, contact_id, added_at)
            SELECT %s, c.id, %s FROM {staging} s JOIN {contact} c ON c.phone = s.phone
            WHERE s.job_id = %s
            ORDER BY c.id
            ON CONFLICT DO NOTHING
            """,
            [job.group_id, now, job.pk],
        )
