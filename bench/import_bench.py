"""Contact import on PostgreSQL: Flowcast's importer against two references.

Generates a 1,000,000-row TSV and a 100,000-row XLSX (CONTACT, NOMBRE, MONTO and a
FECHA date), imports each with Flowcast's importer (parse, validate every phone, upsert
contacts, add memberships), then a 100,000-row slice with a stock django-import-export
ModelResource, and the same rows with a raw COPY into a bare table. Each run is its
own process, so each peak RSS is its own.

    python bench/import_bench.py [--rows 1000000] [--xlsx-rows 100000]
        [--stock-rows 100000]
"""

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import peak_rss_mb, postgres_url, setup_django  # noqa: E402

HEADER = ["CONTACT", "NOMBRE", "MONTO", "FECHA"]


def rows(count: int, seed: int = 1) -> list[list[object]]:
    rng = random.Random(seed)
    phones = rng.sample(range(10_000_000, 99_999_999), count)
    start = dt.date(2016, 1, 1)
    return [
        [
            f"+5255{phone}",
            f"Name {n}",
            rng.randint(100, 5000),
            start + dt.timedelta(days=rng.randint(0, 3000)),
        ]
        for n, phone in enumerate(phones)
    ]


def write_tsv(path: Path, data: list[list[object]]) -> None:
    with path.open("w") as out:
        out.write("\t".join(HEADER) + "\n")
        for phone, name, amount, day in data:
            out.write(f"{phone}\t{name}\t{amount}\t{day.isoformat()}\n")  # type: ignore[attr-defined]


def write_xlsx(path: Path, data: list[list[object]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    book.save(str(path))


def child(args: argparse.Namespace) -> None:
    """One measurement, in this process; prints a JSON line."""
    setup_django(args.db)
    from django.db import connection

    from audiences.models import AudienceGroup, Contact

    group, _ = AudienceGroup.objects.get_or_create(name=f"Bench {args.mode}")
    path = Path(args.file)
    result: dict[str, float]
    started = time.perf_counter()
    if args.mode == "flowcast":
        from audiences.importing import (
            import_job_analyse,
            import_job_apply,
            import_job_create,
        )

        job = import_job_create(source=path, group=group)
        job = import_job_analyse(job_id=job.pk)
        assert job.status == "ready", job.error
        job = import_job_apply(job_id=job.pk)
        result = {
            "rows": job.rows_valid,
            "created": job.created,
            "rejected": job.rows_rejected,
        }
    elif args.mode == "stock":
        import tablib
        from import_export import fields, resources

        class ContactResource(resources.ModelResource):
            phone = fields.Field(attribute="phone", column_name="CONTACT")
            name = fields.Field(attribute="name", column_name="NOMBRE")

            class Meta:
                model = Contact
                import_id_fields = ("phone",)
                fields = ("phone", "name")

        dataset = tablib.Dataset().load(path.read_text(), format="tsv")
        outcome = ContactResource().import_data(dataset, raise_errors=True)
        result = {"rows": len(dataset), "created": outcome.totals["new"], "rejected": 0}
    else:  # raw COPY into a bare table
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bare_contact "
                "(phone text, nombre text, monto text, fecha text)"
            )
            with (
                path.open() as source,
                cursor.copy(
                    "COPY bare_contact FROM STDIN WITH (FORMAT text, HEADER true)"
                ) as copy,
            ):
                while block := source.read(1 << 20):
                    copy.write(block)
            cursor.execute("SELECT count(*) FROM bare_contact")
            result = {"rows": cursor.fetchone()[0], "created": 0, "rejected": 0}
    result["seconds"] = time.perf_counter() - started
    result["rss_mb"] = peak_rss_mb()
    # A file read on several cores has forked part processes, each with its own peak.
    result["part_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    print(json.dumps(result))


def measure(mode: str, file: Path, db: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--file", str(file), "--db", db],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{mode} on {file.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--stock-rows", type=int, default=100_000)
    parser.add_argument("--child", choices=["flowcast", "stock", "copy"])
    parser.add_argument("--file")
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        child(args)
        return
    with (
        tempfile.TemporaryDirectory(prefix="flowcast-import-") as tmp,
        postgres_url() as db,
    ):
        folder = Path(tmp)
        setup_django(db)  # migrates the benchmark database once
        print(f"Generating {args.rows:,}-row TSV and {args.xlsx_rows:,}-row XLSX ...")
        data = rows(args.rows)
        tsv, xlsx, stock = folder / "big.tsv", folder / "big.xlsx", folder / "slice.tsv"
        write_tsv(tsv, data)
        write_tsv(stock, rows(args.stock_rows, seed=2))
        write_xlsx(xlsx, rows(args.xlsx_rows, seed=3))
        del data

        def line(label: str, r: dict[str, float]) -> float:
            rate = r["rows"] / r["seconds"]
            parts = r.get("part_rss_mb", 0)
            print(
                f"  {label:<44} {r['rows']:>9,.0f} rows {r['seconds']:7.1f} s "
                f"{rate:>9,.0f} rows/s  peak RSS {r['rss_mb']:4.0f} MB"
                + (f" (each part process {parts:.0f} MB)" if parts else "")
            )
            return rate

        print("PostgreSQL contact import")
        big = line("Flowcast, TSV", measure("flowcast", tsv, db))
        again = measure("flowcast", tsv, db)
        line("Flowcast, same TSV again (re-import)", again)
        print(f"    re-import created {again['created']:,.0f} new contacts")
        sheet = line("Flowcast, XLSX", measure("flowcast", xlsx, db))
        stock_rate = line(
            "stock django-import-export ModelResource", measure("stock", stock, db)
        )
        copy_rate = line(
            "raw COPY into a bare table (the same TSV)", measure("copy", tsv, db)
        )
        print(
            f"Ratios: Flowcast TSV is {big / stock_rate:.0f}x the stock import and "
            f"{big / copy_rate:.0%} of a raw COPY; "
            f"XLSX {sheet / stock_rate:.0f}x stock."
        )


if __name__ == "__main__":
    main()
