"""The contacts, generated in PostgreSQL: a Python loop would take minutes at a
million."""

from bench.admin.db import sql, table

FIRST_NAMES = [
    "María", "José", "Juan", "Guadalupe", "Luis", "Ana", "Carlos", "Rosa",
    "Miguel", "Laura", "Jorge", "Carmen", "Pedro", "Sofía", "Diego", "Lucía",
]  # fmt: skip
LAST_NAMES = [
    "García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez",
    "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes",
    "Jiménez", "Torres",
]  # fmt: skip


def build_contacts(count: int) -> None:
    """Valid E.164 numbers as an import stores them (up to 7,999,999 contacts):
    mostly Mexican mobiles, some Colombian and US ones; a third with an email, one
    in fifty opted out, one in forty without MONTO."""
    from audiences.models import Contact

    sql(
        f"""
        INSERT INTO {table(Contact)}
            (phone, name, email, data, opted_out_at, opt_out_source, created_at,
             updated_at)
        SELECT
            CASE n %% 20
                WHEN 10 THEN '+57300' || lpad(n::text, 7, '0')
                WHEN 11 THEN '+1212' || (2000000 + n)::text
                ELSE '+5255' || lpad(n::text, 8, '0')
            END,
            CASE WHEN n %% 25 = 0 THEN '' ELSE first || ' ' || last END,
            CASE WHEN n %% 3 = 0 THEN 'cliente' || n || '@example.com' ELSE '' END,
            CASE WHEN n %% 40 = 0
                THEN jsonb_build_object('NOMBRE', first)
                ELSE jsonb_build_object(
                    'NOMBRE', first,
                    'MONTO', 100 + (n * 7919) %% 4901,
                    'FECHA',
                    to_char(date '2016-01-01' + (n %% 3000)::int, 'YYYY-MM-DD'))
            END,
            CASE WHEN n %% 50 = 7 THEN now() - n %% 300 * interval '1 day' END,
            CASE WHEN n %% 50 = 7 THEN 'reply STOP' ELSE '' END,
            now() - (%(count)s - n) * interval '1 second',
            now() - (%(count)s - n) * interval '1 second'
        FROM generate_series(1, %(count)s::bigint) n,
        LATERAL (SELECT (%(first)s::text[])[1 + n %% 16] AS first,
                        (%(last)s::text[])[1 + (n / 16) %% 17] AS last) names
        ORDER BY n
        """,
        {"count": count, "first": FIRST_NAMES, "last": LAST_NAMES},
    )
    address_keys_fill()


def address_keys_fill() -> None:
    """Every contact's phone and email keys (audiences.addresses), which SQL cannot
    compute: hashed here and copied back into one UPDATE."""
    from django.db import connection

    from audiences.addresses import email_key, phone_key
    from audiences.models import Contact

    contacts = table(Contact)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_keys "
            "(id bigint PRIMARY KEY, phone_key text, email_key text)"
        )
        last = 0
        while True:
            cursor.execute(
                f"SELECT id, phone, email FROM {contacts} WHERE id > %s "
                "ORDER BY id LIMIT 50000",
                [last],
            )
            found = cursor.fetchall()
            if not found:
                break
            last = found[-1][0]
            with cursor.copy("COPY bench_keys FROM STDIN") as copy:
                for pk, phone, email in found:
                    copy.write_row((pk, phone_key(phone), email_key(email)))
        cursor.execute(
            f"UPDATE {contacts} c SET phone_key = k.phone_key, "
            "email_key = k.email_key FROM bench_keys k WHERE k.id = c.id"
        )
        cursor.execute("DROP TABLE bench_keys")
