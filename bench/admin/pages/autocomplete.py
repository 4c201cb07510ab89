"""The autocomplete searches an admin's pages send."""

from typing import Any
from urllib.parse import urlencode

from bench.admin.pages.page import Page


def autocomplete_pages(
    model: Any, model_admin: Any, request: Any, changelist: Any, reps: dict[Any, Any]
) -> list[Page]:
    """The autocomplete searches of the admin's widgets and of its changelist's
    search-box filters, with the parameters their pages send, blank and typed."""
    from django.urls import reverse

    def widget(source: Any, name: str) -> tuple[dict[str, str], Any]:
        params = {
            "app_label": source._meta.app_label,
            "model_name": source._meta.model_name,
            "field_name": name,
        }
        return params, source._meta.get_field(name).remote_field.model

    searches = [widget(model, n) for n in model_admin.get_autocomplete_fields(request)]
    for inline in model_admin.inlines:
        searches += [widget(inline.model, n) for n in inline.autocomplete_fields]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            if "query_string" not in choice and "field" in choice:
                params = {
                    "list_filter": "1",
                    "app_label": choice["app_label"],
                    "model_name": choice["model_name"],
                    "field_name": choice["field"],
                }
                searches.append((params, spec.field.remote_field.model))
    pages = []
    for params, remote in searches:
        big = reps.get(remote, {}).get("big")
        for term in ("", str(big)[:4] if big is not None else ""):
            query = urlencode({**params, "term": term})
            name = (
                f"{params['app_label']}.{params['model_name']}.{params['field_name']}"
            )
            pages.append(
                Page(
                    f"{name}: autocomplete term={term!r}",
                    f"{reverse('admin:autocomplete')}?{query}",
                    "autocomplete",
                )
            )
    return pages
