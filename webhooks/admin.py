"""Webhooks and the delivery log in the admin: read-only rows (secrets never shown), filters by
webhook, status and event, and redelivery through the same action as the API."""

from django.contrib import admin, messages

from accounts import policies as access
from audit.ctx import VIA_ADMIN, Ctx
from audit.errors import RegistryError

from . import actions, selectors
from .models import Attempt, Delivery, Webhook


class InternalOutcomesHidden:
    """For others than registry admins, the answer fields of an internal destination are shown
    as anyone may see them (selectors.outcome_for_everyone): each field in `hidden_as` is
    replaced by its display method."""

    hidden_as = {}

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if access.is_registry_admin(request.user):
            return fields
        return [self.hidden_as.get(name, name) for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)  # every field here is read-only


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff


@admin.register(Webhook)
class WebhookAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["id", "name", "flavor", "target", "model", "status", "url", "jenkins_job", "consecutive_failures"]
    list_filter = ["flavor", "target", "status"]
    search_fields = ["id", "name", "url", "model__name"]
    fields = ["id", "name", "description", "flavor", "target", "model", "events", "status", "url",
              "enable_ssl_verification", "jenkins_job", "jenkins_user", "jenkins_uses_password",
              "consecutive_failures", "created_by", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.logged_webhooks(request.user)


class AttemptInline(InternalOutcomesHidden, ReadOnly, admin.TabularInline):
    model = Attempt
    extra = 0
    fields = ["number", "started_at", "status_code", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields
    hidden_as = {"latency_ms": "latency_shown", "error": "error_shown", "response_excerpt": "response_excerpt_shown"}

    def _shown(self, attempt):
        return selectors.outcome_for_everyone(
            internal=attempt.internal_destination, body=attempt.response_excerpt, error=attempt.error,
            latency_ms=attempt.latency_ms,
        )

    @admin.display(description="latency ms")
    def latency_shown(self, attempt):
        return self._shown(attempt)[2]

    @admin.display(description="error")
    def error_shown(self, attempt):
        return self._shown(attempt)[1]

    @admin.display(description="response excerpt")
    def response_excerpt_shown(self, attempt):
        return self._shown(attempt)[0]


@admin.register(Delivery)
class DeliveryAdmin(InternalOutcomesHidden, ReadOnly, admin.ModelAdmin):
    list_display = ["id", "webhook", "event", "activity_seq", "status", "attempts", "next_attempt_at", "created_at",
                    "jenkins_result"]
    list_filter = ["status", "event", "is_test", "webhook"]
    search_fields = ["id", "event_id", "webhook__id", "webhook__name"]
    list_select_related = ["webhook"]
    fields = ["id", "webhook", "event", "event_id", "activity_seq", "status", "attempts", "next_attempt_at",
              "finished_at", "last_error", "handoff_error", "is_test", "payload_text", "jenkins_queue_url", "jenkins_build_url",
              "jenkins_build_number", "jenkins_result"]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["redeliver"]
    hidden_as = {"last_error": "last_error_shown"}

    def get_queryset(self, request):
        return selectors.deliveries(request.user)

    @admin.display(description="last error")
    def last_error_shown(self, obj):
        return selectors.outcome_for_everyone(internal=obj.internal_destination, body="", error=obj.last_error)[1]

    @admin.display(description="payload")
    def payload_text(self, obj):
        return bytes(obj.payload).decode("utf-8", "replace")

    def has_change_permission(self, request, obj=None):
        # Needed for the redeliver action; the fields themselves stay read-only.
        return request.user.is_active and request.user.is_staff

    @admin.action(description="Redeliver (same payload and event id)")
    def redeliver(self, request, queryset):
        ctx = Ctx.from_request(request, via=VIA_ADMIN)
        count = 0
        for delivery in queryset:
            try:
                count += len(actions.deliveries_redeliver(ctx, webhook_id=delivery.webhook_id, delivery_id=delivery.pk))
            except RegistryError as exc:
                messages.error(request, f"{delivery.pk}: {exc.message}")
        if count:
            messages.success(request, f"{count} deliveries queued again.")
