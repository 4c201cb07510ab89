"""/api/v1/groups and /api/v1/variables: the audience groups, their members (added
and removed by phone in static groups), and the custom-data variables."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.memberships import NotStatic, memberships_add, memberships_remove
from audiences.models import AudienceGroup, Contact, Variable

from ..errors import Conflict
from .base import Audited, phone_normalized
from .contacts import ContactSerializer


class GroupSerializer(serializers.ModelSerializer[AudienceGroup]):
    class Meta:
        model = AudienceGroup
        fields = ["id", "name", "description", "kind", "match", "created_at"]
        read_only_fields = fields


class PhonesSerializer(serializers.Serializer[Any]):
    phones = serializers.ListField(
        child=serializers.CharField(),
        help_text="Phones of existing contacts (E.164), at most API_BULK_MAX.",
    )


class MembershipResultSerializer(serializers.Serializer[Any]):
    changed = serializers.IntegerField(
        help_text="How many were added (or removed); those already in (or out) are "
        "not counted."
    )
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="Phones no contact has."
    )


class VariableSerializer(serializers.ModelSerializer[Variable]):
    class Meta:
        model = Variable
        fields = ["id", "name", "kind", "created_at"]
        read_only_fields = fields


@extend_schema(tags=["groups"])
class GroupViewSet(
    Audited,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[AudienceGroup],
):
    """Audience groups; members of static groups are added and removed by phone."""

    queryset = AudienceGroup.objects.all()
    serializer_class = GroupSerializer
    filterset_fields = {"name": ["exact", "icontains"], "kind": ["exact"]}
    permission_codes = {
        "members": "audiences.view_contact",
        "members_add": "audiences.change_audiencegroup",
        "members_remove": "audiences.change_audiencegroup",
    }

    def _phones(self, request: Request) -> tuple[list[str], list[str]]:
        raw = request.data.get("phones") if isinstance(request.data, dict) else None
        if not isinstance(raw, list) or not raw:
            raise exceptions.ValidationError({"phones": "Give a list of phones."})
        limit = int(settings.API_BULK_MAX)
        if len(raw) > limit:
            raise exceptions.ValidationError(
                {
                    "phones": f"At most {limit} phones a request; this one has "
                    f"{len(raw)}."
                }
            )
        problems = {}
        phones = []
        for position, value in enumerate(raw):
            try:
                phones.append(phone_normalized(value, "phone"))
            except exceptions.ValidationError:
                problems[str(position)] = f"{value!r} is not a phone number."
        if problems:
            raise exceptions.ValidationError({"phones": problems})
        known = set(
            Contact.objects.filter(phone__in=phones).values_list("phone", flat=True)
        )
        return phones, sorted(set(phones) - known)

    def _change(self, request: Request, adding: bool) -> Response:
        group = self.get_object()
        phones, unknown = self._phones(request)
        contacts = Contact.objects.filter(phone__in=phones)
        try:
            if adding:
                changed = memberships_add(group_id=group.pk, contacts=contacts)
            else:
                changed = memberships_remove(group_id=group.pk, contacts=contacts)
        except NotStatic as exc:
            raise Conflict(f"The {exc}.") from None
        return Response({"changed": changed, "unknown": unknown})

    @extend_schema(
        summary="The group's members", responses=ContactSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def members(self, request: Request, pk: str) -> Response:
        group = self.get_object()
        page = self.paginate_queryset(group.members())  # type: ignore[arg-type]
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        summary="Add contacts to a static group, by phone",
        request=PhonesSerializer,
        responses=MembershipResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="members/add")
    def members_add(self, request: Request, pk: str) -> Response:
        return self._change(request, adding=True)

    @extend_schema(
        summary="Take contacts out of a static group, by phone",
        request=PhonesSerializer,
        responses=MembershipResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="members/remove")
    def members_remove(self, request: Request, pk: str) -> Response:
        return self._change(request, adding=False)


@extend_schema(tags=["groups"])
class VariableViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Variable]):
    """Custom-data variables and their types (text, number, date)."""

    queryset = Variable.objects.all()
    serializer_class = VariableSerializer
    filterset_fields = {"name": ["exact"], "kind": ["exact"]}
