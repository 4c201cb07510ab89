from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A refusal in the console's own look, saying why and the way back."""
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "reason": str(exception),
    }
    return render(request, "403.html", context, status=403)
