import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Create the 'admin' superuser with a random password if it does not exist, "
        "and print the login. The password is kept in var/admin-password (mode 0600)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args: object, **options: str) -> None:
        username = options["username"]
        password_file = Path(settings.VAR_DIR) / "admin-password"
        User = get_user_model()
        if not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username, f"{username}@example.com", password)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        shown = (
            password_file.read_text().strip()
            if password_file.exists()
            else "(set before; change it with: manage.py changepassword admin)"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Flowcast console: {options['url']}\n"
                f"  user: {username}\n  password: {shown}\n"
            )
        )
