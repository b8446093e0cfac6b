from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from audit.ctx import VIA_ADMIN, Ctx

from .actions import token_create, token_revoke
from .models import ApiToken, User


def _without_permissions(fieldsets):
    """Django's permission pickers edit global permissions, which are Modelgate's
    registry-wide grants: those change only through the permissions action (recorded)."""
    return tuple(
        (title, {**opts, "fields": [f for f in opts["fields"] if f not in ("user_permissions", "permissions")]})
        for title, opts in fieldsets
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_service_account", "is_staff", "is_superuser", "is_active"]
    list_filter = ["is_service_account", "is_staff", "is_superuser", "is_active"]
    fieldsets = _without_permissions(BaseUserAdmin.fieldsets) + (("Modelgate", {"fields": ["is_service_account"]}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Modelgate", {"fields": ["is_service_account"]}),)
    actions = ["issue_token"]

    def save_model(self, request, obj, form, change):
        if obj.is_service_account:
            # Service accounts authenticate with tokens only.
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)

    @admin.action(description="Issue an API token (shown once)")
    def issue_token(self, request, queryset):
        ctx = Ctx.from_request(request, via=VIA_ADMIN)
        for user in queryset:
            _, raw = token_create(ctx, user=user, name=f"admin:{request.user.username}")
            messages.warning(request, f"Token for {user.username} (copy it now, it is not shown again): {raw}")


admin.site.unregister(Group)


@admin.register(Group)
class TeamAdmin(BaseGroupAdmin):
    """Teams are named groups of users (members are set on each user's page); their grants
    are made per model or registry-wide through the permissions action, not here."""

    fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued (and shown once) by the API, `issue_token` or the user
    admin's action, and revoked with the action below, each on the activity log."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke")
    def revoke(self, request, queryset):
        ctx = Ctx.from_request(request, via=VIA_ADMIN)
        revoked = sum(token_revoke(ctx, token=token) for token in queryset)
        messages.success(request, f"{revoked} token(s) revoked.")
