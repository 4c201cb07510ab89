"""The Inbox (conversations with contacts, answered from their page) and the teams
of operators they are assigned to. Registered from messaging.admin."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from base.auditing import AuditedAdmin
from config.object_actions import ObjectActionsMixin

from .answering import AnswerRefused, answer_refusal, answerable_until
from .answering import conversation_answer as answer_send
from .inbox import (
    WHOSE,
    ConversationRefused,
    conversation_assign,
    conversation_close,
    conversation_reopen,
    whose_filter,
)
from .models import Conversation, Team
from .threads import conversation_thread


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "member_count"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.members.count()


class DefaultedFilter(admin.SimpleListFilter):
    """A filter with a default choice (the first lookup) and no "All" of Django's
    own: an absent parameter means the default."""

    def value(self) -> str:
        found = super().value()
        return (
            found if found in dict(self.lookup_choices) else self.lookup_choices[0][0]
        )

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title,
            }


class WhoseFilter(DefaultedFilter):
    title = "assigned to"
    parameter_name = "whose"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(WHOSE.items())

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> QuerySet[Conversation]:
        user = request.user
        assert isinstance(user, User)
        return queryset.filter(whose_filter(user=user, whose=self.value()))


class StatusFilter(DefaultedFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("closed", "Closed"), ("any", "Open or closed")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> QuerySet[Conversation]:
        value = self.value()
        return queryset if value == "any" else queryset.filter(status=value)


class ConversationForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = ["team", "assignee"]


@admin.register(Conversation)
class ConversationAdmin(AuditedAdmin, ObjectActionsMixin):
    """The Inbox: by default the open conversations of the operator, of their teams
    and of nobody, latest activity first."""

    form = ConversationForm
    change_form_template = "admin/messaging/conversation/change_form.html"
    list_display = [
        "who",
        "channel",
        "team",
        "assignee",
        "last_text",
        "last_message_at",
        "status",
    ]
    list_filter = [WhoseFilter, StatusFilter, "channel"]
    list_select_related = ["contact", "channel", "team", "assignee"]
    search_fields = ["=sender", "contact__name"]
    readonly_fields = [
        "contact",
        "channel",
        "sender",
        "status",
        "opened_at",
        "last_reply_at",
        "answerable_until_shown",
        "closed_at",
        "closed_by",
    ]
    fields = ["team", "assignee", *readonly_fields]
    show_full_result_count = False
    actions = ["close_selected", "assign_selected_to_me"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {"title": "Inbox", **(extra_context or {})}
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # conversations are opened by replies

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # closed, never deleted: they go with their contact's replies

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="contact", ordering="sender")
    def who(self, conversation: Conversation) -> str:
        return str(conversation.contact or f"{conversation.sender} (not a contact)")

    @admin.display(description="may be answered until")
    def answerable_until_shown(self, conversation: Conversation) -> str:
        until = answerable_until(conversation)
        if until is None:
            return "no time limit on this channel"
        return (
            f"{timezone.localtime(until):%Y-%m-%d %H:%M %Z} (WhatsApp: 24 hours "
            "after the contact's last message)"
        )

    # --- List actions -------------------------------------------------------------

    @admin.action(
        description="Close the selected conversations", permissions=["change"]
    )
    def close_selected(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> None:
        closed = 0
        for conversation in queryset:
            try:
                conversation_close(
                    conversation=conversation,
                    by=self._user(request),
                    now=timezone.now(),
                )
                closed += 1
            except ConversationRefused as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"{closed} conversation(s) closed.")

    @admin.action(
        description="Assign the selected conversations to me", permissions=["change"]
    )
    def assign_selected_to_me(
        self, request: HttpRequest, queryset: QuerySet[Conversation]
    ) -> None:
        user = self._user(request)
        for conversation in queryset:
            conversation_assign(conversation=conversation, to=user, by=user)
        self.message_user(request, f"{len(queryset)} conversation(s) assigned to you.")

    # --- The change page: thread, answer box, buttons ------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(name: str, handler: Callable[..., HttpResponse]) -> URLPattern:
            return path(
                f"<int:pk>/{name}/",
                self.admin_site.admin_view(handler),
                name=f"messaging_conversation_{name.replace('-', '_')}",
            )

        return [
            view("answer", self.answer_view),
            view("assign-to-me", self.assign_view),
            view("close", self.close_view),
            view("reopen", self.reopen_view),
            *super().get_urls(),
        ]

    def object_actions(
        self, request: HttpRequest, conversation: Conversation
    ) -> list[dict[str, Any]]:
        if not self.has_change_permission(request, conversation):
            return []

        def url(name: str) -> str:
            return reverse(
                f"admin:messaging_conversation_{name}", args=[conversation.pk]
            )

        found = []
        if conversation.assignee_id != request.user.pk:
            found.append({"url": url("assign_to_me"), "label": "Assign to me"})
        if conversation.status == Conversation.Status.OPEN:
            found.append({"url": url("close"), "label": "Close"})
        else:
            found.append({"url": url("reopen"), "label": "Reopen"})
        return found

    def object_context(
        self, request: HttpRequest, conversation: Conversation
    ) -> dict[str, Any]:
        may_change = self.has_change_permission(request, conversation)
        return {
            "thread": conversation_thread(conversation),
            "answer_url": reverse(
                "admin:messaging_conversation_answer", args=[conversation.pk]
            )
            if may_change
            else "",
            "answer_refusal": answer_refusal(conversation, timezone.now()),
            "answerable_until": answerable_until(conversation),
        }

    def _user(self, request: HttpRequest) -> User:
        user = request.user
        assert isinstance(user, User)
        return user

    def _posted(self, request: HttpRequest, pk: int) -> Conversation:
        """The conversation a POST acts on, refused (403) to whoever may not change
        it: a Viewer."""
        conversation = get_object_or_404(
            Conversation.objects.select_related("contact", "channel"), pk=pk
        )
        if not self.has_change_permission(request, conversation):
            raise PermissionDenied
        return conversation

    def _back(self, pk: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:messaging_conversation_change", args=[pk])
        )

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = self._posted(request, pk)
        if request.method != "POST":
            return self._back(pk)
        try:
            answer_send(
                conversation=conversation,
                text=request.POST.get("text", ""),
                by=self._user(request),
                now=timezone.now(),
            )
        except AnswerRefused as exc:
            self.message_user(request, f"Not sent: {exc}", messages.ERROR)
        else:
            self.message_user(request, "Answer queued: it goes out on the channel now.")
        return self._back(pk)

    def assign_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        conversation = self._posted(request, pk)
        if request.method == "POST":
            user = self._user(request)
            conversation_assign(conversation=conversation, to=user, by=user)
            self.message_user(request, f"{conversation} is assigned to you.")
        return self._back(pk)

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._status_view(request, pk, close=True)

    def reopen_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._status_view(request, pk, close=False)

    def _status_view(
        self, request: HttpRequest, pk: int, *, close: bool
    ) -> HttpResponse:
        conversation = self._posted(request, pk)
        if request.method != "POST":
            return self._back(pk)
        user = self._user(request)
        try:
            if close:
                conversation_close(
                    conversation=conversation, by=user, now=timezone.now()
                )
            else:
                conversation_reopen(conversation=conversation, by=user)
        except ConversationRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            done = "closed" if close else "reopened"
            self.message_user(request, f"{conversation} is {done}.")
        return self._back(pk)
