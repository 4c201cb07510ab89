"""Every page of the admin, read from its registry so a new model or URL is timed
without a change here."""

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from bench.admin.pages.autocomplete import autocomplete_pages
from bench.admin.pages.messages import message_filter_pages
from bench.admin.pages.page import BIG_TABLE, Page


def discover(admin_user: Any, reps: dict[Any, dict[str, Any]]) -> list[Page]:
    """Every page to request, found from the admin site's registry."""
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import NoReverseMatch, reverse

    def request(path: str) -> Any:
        made = RequestFactory().get(path)
        made.user = admin_user
        return made

    pages = [Page("admin index", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        objects = reps.get(model, {})
        big, small = objects.get("big"), objects.get("small")
        base = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        req = request(base)
        changelist = model_admin.get_changelist_instance(req)
        pages.append(Page(f"{label}: changelist", base, "changelist", model_admin))
        if changelist.result_count > changelist.list_per_page:
            pages.append(Page(f"{label}: changelist page 2", f"{base}?p=2", "page2"))
        term = search_term(model_admin, req, big)
        if term:
            query = urlencode({"q": term})
            pages.append(
                Page(f"{label}: search {query}", f"{base}?{query}", "search", term=term)
            )
        for name, query in filter_queries(model_admin, req, changelist, big, reps):
            pages.append(Page(f"{label}: filter {name}", base + query, "filter"))
        if label == "messaging.message":
            pages.extend(message_filter_pages(base, reps))
        if model_admin.date_hierarchy and big is not None:
            pages.append(date_page(label, base, model_admin.date_hierarchy, big))
        if changelist.result_count >= BIG_TABLE:
            pages.extend(sort_pages(label, base, changelist))
        if model_admin.has_add_permission(req):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
            pages.append(Page(f"{label}: add", url, "add"))
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for size, obj in objects.items():
            if size != "big" and big is not None and obj.pk == big.pk:
                continue
            url = reverse(f"{prefix}_change", args=[obj.pk])
            pair = label if size in ("big", "small") else ""
            pages.append(
                Page(f"{label}: change {size} #{obj.pk}", url, "change", pair=pair)
            )
        if big is not None:
            url = reverse(f"{prefix}_history", args=[big.pk])
            pages.append(Page(f"{label}: history big #{big.pk}", url, "history"))
        if small is not None and model_admin.has_delete_permission(req, small):
            url = reverse(f"{prefix}_delete", args=[small.pk])
            pages.append(Page(f"{label}: delete small #{small.pk}", url, "delete"))
        standard = {
            f"{prefix[6:]}_{suffix}"
            for suffix in ("changelist", "add", "change", "delete", "history")
        }
        for pattern in model_admin.get_urls():
            if not pattern.name or pattern.name in standard:
                continue
            keys = list(pattern.pattern.converters)
            pk = getattr(big, "pk", None)
            if keys and pk is None:
                continue
            try:
                url = reverse(f"admin:{pattern.name}", kwargs=dict.fromkeys(keys, pk))
            except NoReverseMatch:
                continue
            # A part of an object's page that comes after it (base.lazy): timed
            # and reported apart, its page being timed without it.
            lazy = any(
                pattern.name.endswith(f"_{part}")
                for part in getattr(model_admin, "lazy_parts", {})
            )
            kind = "part" if lazy else "custom"
            pages.append(Page(f"{label}: {pattern.name}", url, kind))
        if big is not None and hasattr(model_admin, "object_actions"):
            for action in model_admin.object_actions(req, big):
                if action.get("method") == "get":
                    pages.append(
                        Page(
                            f"{label}: action {action['label']} (big)",
                            action["url"],
                            "custom",
                        )
                    )
        pages.extend(autocomplete_pages(model, model_admin, req, changelist, reps))
    for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
        url = reverse("admin:app_list", kwargs={"app_label": app_label})
        pages.append(Page(f"app index {app_label}", url))
    unique: dict[str, Page] = {}
    for page in pages:
        unique.setdefault(page.url, page)
    return list(unique.values())


def search_term(model_admin: Any, request: Any, obj: Any) -> str:
    """The value ``obj`` has in the admin's first search field (a phone, a name)."""
    from django.db.models import Model

    fields = model_admin.get_search_fields(request)
    if not fields or obj is None:
        return ""
    value = obj
    for part in fields[0].lstrip("=^@").split("__"):
        if not hasattr(value, part):
            break  # a lookup such as icontains
        value = getattr(value, part)
        if value is None:
            return ""
    return "" if isinstance(value, Model) else str(value)


def filter_queries(
    model_admin: Any, request: Any, changelist: Any, big: Any, reps: dict[Any, Any]
) -> list[tuple[str, str]]:
    """A query string for each choice of each filter; of a long list of choices, the
    first two, the last, and those naming a big object."""
    named = {str(obj) for objects in reps.values() for obj in objects.values()}
    out: list[tuple[str, str]] = []
    for spec in changelist.filter_specs:
        picked: list[tuple[str, str]] = []
        for choice in spec.choices(changelist):
            query = choice.get("query_string")
            if query is None:  # a search box (autocomplete filter): the big one's value
                field_name = getattr(spec, "field", None)
                value = getattr(big, field_name.attname, None) if field_name else None
                if value is not None:
                    picked.append((str(value), f"?{spec.lookup_kwarg}={value}"))
                continue
            if choice.get("selected") or query in ("", "?"):
                continue
            picked.append((str(choice.get("display")), query))
        if len(picked) > 15:
            picked = (
                picked[:2]
                + [choice for choice in picked[2:-1] if choice[0] in named]
                + picked[-1:]
            )
        out.extend((f"{spec.title}={display}", query) for display, query in picked)
    return out


def date_page(label: str, base: str, name: str, big: Any) -> Page:
    from django.utils import timezone

    when = getattr(big, name)
    if isinstance(when, dt.datetime):
        when = timezone.localtime(when)
    query = urlencode({f"{name}__year": when.year, f"{name}__month": when.month})
    return Page(f"{label}: dates {when:%Y-%m}", f"{base}?{query}", "filter")


def sort_pages(label: str, base: str, changelist: Any) -> list[Page]:
    from django.contrib.admin.templatetags.admin_list import result_headers

    return [
        Page(
            f"{label}: sort by {header['text']}",
            f"{base}{header['url_primary']}",
            "sort",
        )
        for header in result_headers(changelist)
        if header["sortable"]
    ]
