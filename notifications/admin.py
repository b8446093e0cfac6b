"""The email outbox in the admin, for registry admins only (an email names models and people
its reader may not see): read-only, filtered by state, to see what waits and why it failed."""

from django.contrib import admin

from accounts import policies as access

from .models import Email


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["id", "to_address", "subject", "is_digest", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "is_digest"]
    search_fields = ["to_address", "subject", "message_id"]
    fields = ["user", "to_address", "subject", "body", "message_id", "is_digest", "status", "attempts",
              "next_attempt_at", "sent_at", "last_error", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return access.is_registry_admin(request.user)

    def has_module_permission(self, request):
        return access.is_registry_admin(request.user)
