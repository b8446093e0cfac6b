from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .actions import token_create
from .ctx import VIA_ADMIN, Ctx
from .models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_service_account", "is_staff", "is_superuser", "is_active"]
    list_filter = ["is_service_account", "is_staff", "is_superuser", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + (("Modelgate", {"fields": ["is_service_account"]}),)
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "expires_at", *readonly_fields]

    def has_add_permission(self, request):
        # Tokens are shown once: issue them with `manage.py issue_token` or the API.
        return False
