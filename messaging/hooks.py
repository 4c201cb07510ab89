"""Provider webhooks: /hooks/<channel id>/status and /hooks/<channel id>/inbound.

Twilio channels (sms, whatsapp) are checked with Twilio's X-Twilio-Signature, made
with the channel's auth token; webhook channels as Standard Webhooks says
(base.signing), with the channel's signing secret, within 5 minutes of their
webhook-timestamp and once per webhook-id. Anything unsigned, signed wrongly, stale
or replayed is refused with 403 and changes nothing.
"""

import functools
import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from base.signing import SignatureRefused, verify

from .backends.twilio import twilio_bounce
from .credentials import channel_credentials, channel_signing_secrets
from .models import Channel
from .receipts import messages_record_receipt, reply_record
from .replays import hook_first_seen, hook_forget
from .twilio_signature import twilio_signature_verified

logger = logging.getLogger(__name__)
TWILIO_KINDS = (Channel.Kind.SMS, Channel.Kind.WHATSAPP)
HOOK_ID = "flowcast.hook_id"  # request.META: the verified webhook-id
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _called_url(request: HttpRequest) -> str:
    """The URL Twilio called: under FLOWCAST_PUBLIC_URL when set, else as the request
    says (X-Forwarded-Host and -Proto count only where the settings trust them)."""
    if settings.FLOWCAST_PUBLIC_URL:
        return settings.FLOWCAST_PUBLIC_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def _verified(request: HttpRequest, channel: Channel) -> bool:
    if channel.kind in TWILIO_KINDS:
        return twilio_signature_verified(
            token=channel_credentials(channel).get("auth_token", ""),
            url=_called_url(request),
            params=dict(request.POST.lists()),
            given=request.headers.get("X-Twilio-Signature", ""),
        )
    return False


def _webhook_refusal(request: HttpRequest, channel: Channel) -> str:
    """Why a webhook channel's hook is refused; "" when it is signed with the
    channel's secret, on time, and not seen before."""
    try:
        hook_id = verify(
            channel_signing_secrets(channel), request.headers, request.body, time.time()
        )
    except SignatureRefused as exc:
        return str(exc)
    if not hook_first_seen(channel.pk, hook_id):
        return "This webhook-id was received already: a hook is taken once."
    request.META[HOOK_ID] = hook_id
    return ""


def taken_once(
    view: Callable[[HttpRequest, int], HttpResponse],
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A webhook-id counts as received only when its hook is taken: one answered
    400, or failing on our side, is forgotten, so the sender's retry is not taken
    for a replay."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, channel_id: int) -> HttpResponse:
        try:
            response = view(request, channel_id)
        except BaseException:
            _forget(request, channel_id)
            raise
        if response.status_code >= 400:
            _forget(request, channel_id)
        return response

    return wrapped


def _forget(request: HttpRequest, channel_id: int) -> None:
    hook_id = request.META.get(HOOK_ID)
    if hook_id:
        hook_forget(channel_id, hook_id)


def _channel(request: HttpRequest, channel_id: int) -> Channel | HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    if channel.kind not in (*TWILIO_KINDS, Channel.Kind.WEBHOOK):
        return JsonResponse(
            {"error": f"{channel.get_kind_display()} channels take no webhooks."},
            status=404,
        )
    if channel.kind == Channel.Kind.WEBHOOK:
        refusal = _webhook_refusal(request, channel)
    elif not _verified(request, channel):
        refusal = "The signature is missing or wrong."
    else:
        refusal = ""
    if refusal:
        logger.warning("hook for channel %s refused: %s", channel.pk, refusal)
        return JsonResponse({"error": refusal}, status=403)
    return channel


def _json(request: HttpRequest) -> dict[str, object] | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@csrf_exempt
@require_POST
@taken_once
def status(request: HttpRequest, channel_id: int) -> HttpResponse:
    found = _channel(request, channel_id)
    if isinstance(found, HttpResponse):
        return found
    channel = found
    if channel.kind in TWILIO_KINDS:
        message_id = request.GET.get("message", "")
        state = request.POST.get("MessageStatus", "")
        code = request.POST.get("ErrorCode", "")
        error = request.POST.get("ErrorMessage") or code
        bounce = twilio_bounce(code, request.POST.get("To", ""), receipt=True)
    else:
        data = _json(request)
        if data is None:
            return JsonResponse(
                {"error": "The body must be a JSON object."}, status=400
            )
        message_id, state = str(data.get("id", "")), str(data.get("status", ""))
        error = str(data.get("error", ""))
        bounce = None
    if not message_id.isdigit() or not state:
        return JsonResponse(
            {"error": "Give the message id and its status."}, status=400
        )
    outcome = messages_record_receipt(
        channel=channel,
        message_id=int(message_id),
        status=state,
        error=error,
        bounce=bounce,
    )
    return JsonResponse({"message": int(message_id), "outcome": outcome})


@csrf_exempt
@require_POST
@taken_once
def inbound(request: HttpRequest, channel_id: int) -> HttpResponse:
    found = _channel(request, channel_id)
    if isinstance(found, HttpResponse):
        return found
    channel = found
    if channel.kind in TWILIO_KINDS:
        sender = request.POST.get("From", "")
        body = request.POST.get("Body", "")
        provider_id = request.POST.get("MessageSid", "")
    else:
        data = _json(request)
        if data is None:
            return JsonResponse(
                {"error": "The body must be a JSON object."}, status=400
            )
        sender, body = str(data.get("from", "")), str(data.get("text", ""))
        provider_id = str(data.get("id", ""))
    if not sender:
        return JsonResponse({"error": "Give who the reply is from."}, status=400)
    reply = reply_record(
        channel=channel, sender=sender, body=body, provider_id=provider_id
    )
    if channel.kind in TWILIO_KINDS:
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
    if reply is None:
        return JsonResponse({"stored": False, "reason": "already received"})
    return JsonResponse(
        {
            "stored": True,
            "opted_out": reply.inbound.opted_out,
            "skipped_messages": reply.skipped,
        }
    )
