"""What a worker or web process loads: phone numbers' place names (the geocoder's
data, ~95 MB a process) are not among it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOAD_EVERYTHING = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["DEBUG"] = "true"
import django
django.setup()
from django.apps import apps
import importlib
for config in apps.get_app_configs():
    for part in ("admin", "tasks", "models"):
        try:
            importlib.import_module(f"{config.name}.{part}")
        except ModuleNotFoundError:
            pass
from audiences.phones import region_named
assert region_named("MX") == "Mexico (+52)", region_named("MX")
print(sorted(m for m in sys.modules if m.startswith("phonenumbers.geodata")))
"""


def test_no_process_loads_the_phone_geocoders_data() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_EVERYTHING],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
