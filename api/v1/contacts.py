"""/api/v1/contacts: list and search, get by id or phone, create or update by phone
(one, or up to API_BULK_MAX at once), delete (the console's erasure), opt out and
back in. The rules are audiences' (upserts, erasure, consent); this only speaks
HTTP."""

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.consent import contact_mark_opted_in
from audiences.erasure import contacts_delete
from audiences.models import AudienceGroup, Contact
from audiences.phones import phone_in_search
from audiences.upserts import contacts_upsert
from messaging.receipts import contact_opt_out

from .base import Audited, IdFilter, contact_by_phone, id_given, phone_normalized


class ContactSerializer(serializers.ModelSerializer[Contact]):
    opted_out = serializers.SerializerMethodField()
    # Blank when unknown: not an email address to the schema.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "phone",
            "name",
            "email",
            "timezone",
            "data",
            "opted_out",
            "opted_out_at",
            "opt_out_source",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_opted_out(self, contact: Contact) -> bool:
        return contact.opted_out_at is not None


# Serializers with fields named like Serializer's own attributes (data, fields,
# source) are made from dictionaries.
def _contact_write_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    return {
        "phone": serializers.CharField(
            help_text="With its country code (+525500998877); the contact's key."
        ),
        "name": serializers.CharField(
            required=False, allow_blank=True, allow_null=True
        ),
        "email": serializers.CharField(
            required=False, allow_blank=True, allow_null=True
        ),
        "timezone": serializers.CharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            help_text="Where the contact lives, as an IANA zone "
            "(America/Mexico_City); another value refuses the item. Empty: the "
            "phone number's zone, else the campaign's.",
        ),
        "data": serializers.DictField(
            child=serializers.JSONField(allow_null=True),
            required=False,
            help_text="Custom data, merged name by name: a null value removes the "
            "name. Values take their variable's type (number, date YYYY-MM-DD, text); "
            "a new variable is created, typed by its values.",
        ),
    }


ContactWriteSerializer = type(
    "ContactWrite", (serializers.Serializer,), _contact_write_fields()
)
BulkWriteSerializer = inline_serializer(
    "ContactsBulkWrite",
    {"contacts": ContactWriteSerializer(many=True)},
)
BulkResultSerializer = inline_serializer(
    "ContactsBulkResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "contacts": inline_serializer(
            "ContactsBulkWritten",
            {
                "item": serializers.IntegerField(
                    help_text="The item's position, from 0."
                ),
                "id": serializers.IntegerField(),
                "phone": serializers.CharField(),
                "created": serializers.BooleanField(),
            },
            many=True,
        ),
        "errors": inline_serializer(
            "ContactsBulkRefused",
            {
                "item": serializers.IntegerField(
                    help_text="The item's position, from 0."
                ),
                "fields": serializers.DictField(child=serializers.CharField()),
            },
            many=True,
        ),
    },
)
SourceSerializer = inline_serializer(
    "ConsentSource",
    {
        "source": serializers.CharField(
            required=False,
            max_length=80,
            help_text="Where the request came from, kept with the opt-out (e.g. "
            "'shop preferences page').",
        )
    },
)


class ContactFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(method="by_phone", help_text="E.164 phone.")
    q = django_filters.CharFilter(
        method="search", help_text="A phone, or words of the name or email."
    )
    group = IdFilter(
        method="in_group", help_text="Members of this group (id), static or dynamic."
    )
    opted_out = django_filters.BooleanFilter(
        field_name="opted_out_at", lookup_expr="isnull", exclude=True
    )
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gt"
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gt"
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def by_phone(self, queryset: QuerySet[Contact], name: str, value: str) -> Any:
        return queryset.filter(phone=phone_normalized(value, "phone"))

    def search(self, queryset: QuerySet[Contact], name: str, value: str) -> Any:
        phone = phone_in_search(value)
        if phone:
            return queryset.filter(phone=phone)
        words = value.split()[:5]
        condition = Q()
        for word in words:
            condition &= Q(name__icontains=word) | Q(email__icontains=word)
        return queryset.filter(condition)

    def in_group(self, queryset: QuerySet[Contact], name: str, value: int) -> Any:
        group = AudienceGroup.objects.filter(pk=value).first()
        if group is None:
            raise exceptions.ValidationError({"group": f"No group has the id {value}."})
        return queryset.filter(pk__in=group.members().values("pk"))


def _source(request: Request, what: str) -> str:
    given = str(request.data.get("source") or "").strip()[:80]
    token = request.auth
    by = (
        f"API key {token.name}"
        if token is not None and hasattr(token, "name")
        else (f"API, {request.user.get_username()}")
    )
    return f"{what} via {by}" + (f": {given}" if given else "")


@extend_schema(tags=["contacts"])
class ContactViewSet(
    Audited,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Contact],
):
    """Contacts, by id or by phone (E.164)."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    permission_codes = {
        "create": ("audiences.add_contact", "audiences.change_contact"),
        "bulk": ("audiences.add_contact", "audiences.change_contact"),
        "by_phone": "audiences.view_contact",
        "opt_out": "audiences.change_contact",
        "opt_in": "audiences.change_contact",
    }

    def get_object(self) -> Contact:
        key = self.kwargs.get("pk", "")
        number = id_given(key)
        contact = Contact.objects.filter(pk=number).first() if number else None
        if contact is None:
            raise exceptions.NotFound(f"No contact has the id {key}.")
        return contact

    @extend_schema(
        request=ContactWriteSerializer,
        responses={200: ContactSerializer, 201: ContactSerializer},
        summary="Create or update a contact by phone",
        description="201 when the contact is new, 200 when it was updated.",
    )
    def create(self, request: Request) -> Response:
        done = contacts_upsert(items=[request.data])
        if done.problems:
            raise exceptions.ValidationError(done.problems[0])
        _, contact, created = done.contacts[0]
        contact.refresh_from_db()  # its stored creation time, not the write's
        return Response(
            ContactSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=BulkWriteSerializer,
        responses={200: BulkResultSerializer},
        summary="Create or update many contacts by phone",
        description=(
            "Up to API_BULK_MAX (default 1,000) contacts. Items with a problem are "
            "left out and listed in errors by position; the others are written "
            "together. 400 when none could be written."
        ),
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        items = request.data.get("contacts") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise exceptions.ValidationError(
                {"contacts": "Give a list of contacts, each with its phone."}
            )
        limit = int(settings.API_BULK_MAX)
        if len(items) > limit:
            raise exceptions.ValidationError(
                {
                    "contacts": f"At most {limit} contacts a request; this one has "
                    f"{len(items)}. Split it."
                }
            )
        done = contacts_upsert(items=items)
        body = {
            "created": done.created,
            "updated": done.updated,
            "contacts": [
                {"item": position, "id": c.pk, "phone": c.phone, "created": new}
                for position, c, new in done.contacts
            ],
            "errors": [
                {"item": position, "fields": problems}
                for position, problems in sorted(done.problems.items())
            ],
        }
        if not done.contacts:
            return Response(
                {"error": "No contact could be written; see errors.", **body},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body)

    @extend_schema(
        summary="Get a contact by phone",
        parameters=[OpenApiParameter("phone", str, OpenApiParameter.PATH)],
    )
    @action(detail=False, methods=["get"], url_path=r"phone/(?P<phone>[^/]+)")
    def by_phone(self, request: Request, phone: str) -> Response:
        return Response(ContactSerializer(contact_by_phone(phone)).data)

    @extend_schema(
        summary="Delete a contact",
        description="The console's erasure: the contact, its memberships, messages, "
        "journeys and events go; the audit trail records what went.",
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        contacts_delete(contacts=Contact.objects.filter(pk=contact.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Opt a contact out",
        description="Nothing more is sent to it; messages waiting for it are skipped. "
        "The first opt-out's time and source are kept.",
        request=SourceSerializer,
        responses={200: ContactSerializer},
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        contact_opt_out(contact=contact, source=_source(request, "opted out"))
        contact.refresh_from_db()
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        summary="Opt a contact back in",
        description="Only when the contact asked for it: its opt-out is taken back.",
        request=SourceSerializer,
        responses={200: ContactSerializer},
    )
    @action(detail=True, methods=["post"], url_path="opt-in")
    def opt_in(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        contact_mark_opted_in(contact=contact, source=_source(request, "opted in"))
        contact.refresh_from_db()
        return Response(ContactSerializer(contact).data)
