"""Channels stop naming environment variables to read secrets from.

secret_env, token_env and sid_env leave every channel's settings. Each webhook
channel gets a signing secret of its own (rotate it in the console to see one).
SMS and WhatsApp channels that read the default variables get the credentials
TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN hold while this runs, if both are set;
channels that named other variables get none: enter theirs in the console.
"""

import json
import os

from django.db import migrations

from messaging.encryption import seal
from messaging.signing import new_secret

OLD_KEYS = ("secret_env", "token_env", "sid_env")


def forwards(apps, schema_editor):
    Channel = apps.get_model("messaging", "Channel")
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "")
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    for channel in Channel.objects.all():
        found = channel.settings if isinstance(channel.settings, dict) else {}
        named_own = bool(found.get("sid_env") or found.get("token_env"))
        changed = [key for key in OLD_KEYS if key in found]
        for key in changed:
            del found[key]
        fields = ["settings"] if changed else []
        if channel.kind == "webhook" and not channel.signing_secret:
            channel.signing_secret = seal(new_secret())
            fields.append("signing_secret")
        if (
            channel.kind in ("sms", "whatsapp")
            and not channel.credentials
            and not named_own
            and sid
            and token
        ):
            channel.credentials = seal(
                json.dumps({"account_sid": sid, "auth_token": token}, sort_keys=True)
            )
            fields.append("credentials")
        if fields:
            channel.settings = found
            channel.save(update_fields=fields)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0010_channel_secrets")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
