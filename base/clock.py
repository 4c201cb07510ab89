"""Each operator's own clock: the time zone the console shows them times in.

Chosen on the My settings page (one OperatorSettings row per user, made when first
saved; until then the installation's TIME_ZONE) and activated for each of their
requests by OperatorClockMiddleware, so the admin's dates and times, and the
sentences built with timezone.localtime(), are in their zone, named.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from .models import OperatorSettings, installation_zone
from .zones import ZoneField, zone_known_or_none, zone_with_offset


def operator_zone(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """The zone ``user`` sees times in: theirs if they chose one it can still
    read, else the installation's."""
    if user is None or not user.is_authenticated:
        return installation_zone()
    chosen = (
        OperatorSettings.objects.filter(user_id=user.pk)
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone_known_or_none(chosen or "") or installation_zone()


def operator_zone_set(*, user: AbstractBaseUser, time_zone: str) -> None:
    """Make ``time_zone`` (an IANA name, as ZoneField gives it) the zone ``user``
    sees times in."""
    OperatorSettings.objects.update_or_create(
        user_id=user.pk, defaults={"time_zone": time_zone}
    )


class OperatorClockMiddleware:
    """Times in each request are shown, and typed times read, in its operator's
    zone (after AuthenticationMiddleware, which tells who the operator is)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = operator_zone(getattr(request, "user", None))
        # For the console's header: "America/Bogota (GMT-5)".
        request.operator_zone = zone_with_offset(zone)  # type: ignore[attr-defined]
        with timezone.override(zone):
            return self.get_response(request)


class MySettingsForm(forms.Form):
    time_zone = ZoneField(
        label="My time zone",
        max_length=64,
        help_text="Every date and time in the console is shown to you in this zone, "
        "with the zone named, and the dates and times you type are read in it. "
        "Others keep their own.",
    )


def my_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in operator's own settings (the admin site wraps it: staff only);
    each operator changes only their own."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    if request.method == "POST":
        form = MySettingsForm(request.POST)
        if form.is_valid():
            zone = form.cleaned_data["time_zone"]
            operator_zone_set(user=user, time_zone=zone)
            messages.success(
                request, f"Times are now shown to you in {zone_with_offset(zone)}."
            )
            return HttpResponseRedirect(reverse("admin:my_settings"))
    else:
        form = MySettingsForm(initial={"time_zone": operator_zone(user)})
    context = {
        **admin.site.each_context(request),
        "title": "My settings",
        "form": form,
    }
    return TemplateResponse(request, "admin/base/my_settings.html", context)
