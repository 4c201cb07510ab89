"""Unsubscribing from marketing email: the signed link every marketing email
carries (in its body and in its List-Unsubscribe header, RFC 2369 and RFC 8058's
one-click), and what following it does.

The link's token is signed (django.core.signing, SECRET_KEY) and carries the
message id, the key of the email address (audiences.addresses), its hint and the
language of the campaign, nothing else: it works after the contact is erased, as
long as UNSUBSCRIBE_LINK_DAYS after the email was sent. Following the link only
shows a question; the answer (a POST: the page's button, or a mail client's
one-click) puts the address on the suppression list, once.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

from audiences.addresses import address_hint, email_key
from audiences.models import Suppression
from audiences.suppressing import key_suppress

from .models import Message

SALT = "flowcast.unsubscribe"
# Where the link points when FLOWCAST_PUBLIC_URL is not set: the console as
# `make run` serves it (a link that only works on this machine).
LOCAL_URL = "http://localhost:8000"

LANGUAGES = (("en", "English"), ("es", "Spanish"), ("pt", "Portuguese"))
LANGUAGE_DEFAULT = "en"

# What the page and the email's footer say, by language.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "footer": "To stop receiving these emails, unsubscribe: {url}",
        "link": "Unsubscribe",
        "title": "Unsubscribe",
        "question": "Unsubscribe {hint} from these emails?",
        "button": "Unsubscribe",
        "done_title": "You are unsubscribed",
        "done": "{hint} will receive no more of these emails.",
        "refused_title": "This link does not work",
        "expired": "This unsubscribe link has expired. Use the link in a more "
        "recent email, or reply to the email and ask to be removed.",
        "bad": "This unsubscribe link is not valid: it may have been cut short or "
        "changed. Copy the whole link from the email, or reply to the email and "
        "ask to be removed.",
    },
    "es": {
        "footer": "Para dejar de recibir estos correos, date de baja: {url}",
        "link": "Darse de baja",
        "title": "Darse de baja",
        "question": "¿Dar de baja {hint} de estos correos?",
        "button": "Darme de baja",
        "done_title": "Te has dado de baja",
        "done": "{hint} no recibirá más estos correos.",
        "refused_title": "Este enlace no funciona",
        "expired": "Este enlace para darse de baja ha caducado. Usa el enlace de "
        "un correo más reciente, o responde al correo y pide que te den de baja.",
        "bad": "Este enlace para darse de baja no es válido: puede estar cortado o "
        "alterado. Copia el enlace completo del correo, o responde al correo y "
        "pide que te den de baja.",
    },
    "pt": {
        "footer": "Para deixar de receber estes e-mails, cancele a inscrição: {url}",
        "link": "Cancelar inscrição",
        "title": "Cancelar inscrição",
        "question": "Cancelar a inscrição de {hint} nestes e-mails?",
        "button": "Cancelar inscrição",
        "done_title": "Inscrição cancelada",
        "done": "{hint} não receberá mais estes e-mails.",
        "refused_title": "Este link não funciona",
        "expired": "Este link para cancelar a inscrição expirou. Use o link de um "
        "e-mail mais recente, ou responda ao e-mail e peça para ser removido.",
        "bad": "Este link para cancelar a inscrição não é válido: pode ter sido "
        "cortado ou alterado. Copie o link completo do e-mail, ou responda ao "
        "e-mail e peça para ser removido.",
    },
}


def language_of(code: str) -> str:
    """``code`` if the page speaks it, else the default."""
    return code if code in TEXTS else LANGUAGE_DEFAULT


def texts(language: str) -> dict[str, str]:
    return TEXTS[language_of(language)]


@dataclass(frozen=True)
class UnsubscribeLink:
    """What an unsubscribe link says: which email it came in, the key and hint of
    the address it went to, and the language to answer in."""

    message_id: int
    key: str
    hint: str
    language: str


class LinkRefused(Exception):
    """A link that is not taken: forged, cut short, or too old. ``status`` is the
    HTTP answer (400, or 410 when it expired); the text says why."""

    def __init__(self, text: str, *, status: int) -> None:
        super().__init__(text)
        self.status = status


def unsubscribe_token(*, message_id: int, email: str, language: str) -> str:
    """The signed token of the unsubscribe link of message ``message_id``, sent to
    ``email``."""
    return signing.dumps(
        [message_id, email_key(email), address_hint(email), language_of(language)],
        salt=SALT,
        compress=True,
    )


def unsubscribe_url(token: str) -> str:
    """The link's absolute address, under FLOWCAST_PUBLIC_URL."""
    base = (settings.FLOWCAST_PUBLIC_URL or LOCAL_URL).rstrip("/")
    return base + reverse("unsubscribe", args=[token])


@dataclass(frozen=True)
class EmailUnsubscribe:
    """What a marketing email carries to unsubscribe: a footer for its text and
    its HTML bodies, and headers."""

    url: str
    text: str
    html: str
    headers: dict[str, str]


def email_unsubscribe(message: Message, email: str) -> EmailUnsubscribe | None:
    """The unsubscribe link of ``message`` to ``email``, in its batch's language,
    and where it goes; None when its batch is not marketing."""
    batch = message.batch
    if not batch.is_marketing:
        return None
    language = language_of(str((batch.tags or {}).get("language") or ""))
    url = unsubscribe_url(
        unsubscribe_token(message_id=message.pk, email=email, language=language)
    )
    said = TEXTS[language]
    return EmailUnsubscribe(
        url=url,
        text=f"\n\n-- \n{said['footer'].format(url=url)}\n",
        html=f'<p style="font-size:small;color:#666"><a href="{escape(url)}">'
        f"{escape(said['link'])}</a></p>",
        headers={
            # RFC 2369, and RFC 8058's one-click: a POST to the URL unsubscribes.
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def unsubscribe_link_read(token: str, *, language: str = "") -> UnsubscribeLink:
    """What ``token`` says, if it is signed by us and not older than
    UNSUBSCRIBE_LINK_DAYS; else LinkRefused, saying why in ``language``."""
    said = texts(language)
    max_age = settings.UNSUBSCRIBE_LINK_DAYS * 24 * 3600
    try:
        values = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkRefused(said["expired"], status=410) from None
    except signing.BadSignature:
        raise LinkRefused(said["bad"], status=400) from None
    try:
        message_id, key, hint, code = values
        return UnsubscribeLink(int(message_id), str(key), str(hint), language_of(code))
    except (TypeError, ValueError):  # signed by us, but not as a link
        raise LinkRefused(said["bad"], status=400) from None


def link_unsubscribe(link: UnsubscribeLink) -> bool:
    """Put the link's address on the suppression list (reason unsubscribe).
    Idempotent: return False when it was on it already."""
    batch = (
        Message.objects.filter(pk=link.message_id)
        .values_list("batch__name", flat=True)
        .first()
    )
    source = f"unsubscribe link in email {link.message_id}"
    if batch:
        source += f" ({batch})"
    return key_suppress(
        kind=Suppression.Address.EMAIL,
        key=link.key,
        hint=link.hint,
        reason=Suppression.Reason.UNSUBSCRIBE,
        source=source,
    )
