"""The stall mail: operators at FLOWCAST_ALERT_EMAILS are told when a run stops
moving, and again when it moves (a listener of campaigns.stalls, through Django's
mail and its EMAIL_* settings)."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from .stalls import StallNews, stall_checks


def stall_mail(news: StallNews) -> None:
    """Mail the news to FLOWCAST_ALERT_EMAILS; nothing without addresses. Raises
    when the mail server refuses or cannot be reached (the stall is told again at
    the next check)."""
    recipients = list(settings.FLOWCAST_ALERT_EMAILS)
    if not recipients:
        return
    subject, body = stall_mail_text(news)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def stall_mail_text(news: StallNews) -> tuple[str, str]:
    """The subject and text of the mail."""
    slot = timezone.localtime(news.scheduled_for)
    since = timezone.localtime(news.since)
    lines = [
        f"Campaign {news.campaign_name!r}, run of {slot:%Y-%m-%d %H:%M %Z}:",
        "",
        f"{news.headline}.",
        "",
    ]
    if news.kind == "stalled":
        subject = f"[Flowcast] Not moving: {news.campaign_name}, {news.headline}"
        lines += [
            f"Nothing of it has gone out since {since:%Y-%m-%d %H:%M %Z}.",
            stall_checks(news.at),
            "",
            "You are told again when it moves.",
        ]
    else:
        subject = f"[Flowcast] No longer stuck: {news.campaign_name}"
        lines.append(
            f"It had not moved since {since:%Y-%m-%d %H:%M %Z} "
            f"({news.due:,} messages were due)."
        )
    if settings.FLOWCAST_PUBLIC_URL:
        url = reverse("admin:campaigns_campaign_change", args=[news.campaign_id])
        lines += ["", f"The campaign: {settings.FLOWCAST_PUBLIC_URL.rstrip('/')}{url}"]
    return subject, "\n".join(lines) + "\n"
