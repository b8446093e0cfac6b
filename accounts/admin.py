from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.admin import sensitive_post_parameters_m
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from audit.ctx import VIA_ADMIN, Ctx
from audit.errors import RegistryError

from . import actions, policies
from .forms import PasswordSetForm, TeamForm
from .models import ApiToken, User


def _without_permissions(fieldsets):
    """Django's permission pickers edit global permissions, which are Modelgate's
    registry-wide grants: those change only through the permissions action (recorded)."""
    return tuple(
        (title, {**opts, "fields": [f for f in opts["fields"] if f not in ("user_permissions", "permissions")]})
        for title, opts in fieldsets
    )


def _admin_ctx(request):
    return Ctx.from_request(request, via=VIA_ADMIN)


class ThroughActionsAdmin(admin.ModelAdmin):
    """People and teams decide who may approve what, so they change only through their
    actions (accounts.actions: registry admins only, each on the activity log), never by the
    admin saving the form, its many-to-many fields or a queryset itself. A refused action
    rolls the whole page's save back and shows as an error."""

    def has_module_permission(self, request):
        return policies.is_registry_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def _refusal_as_message(self, request, view, *args, **kwargs):
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except RegistryError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        return self._refusal_as_message(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._refusal_as_message(request, super().delete_view, *args, **kwargs)

    def response_action(self, request, queryset):
        # Bulk actions ("delete selected", "issue a token"): all or nothing.
        return self._refusal_as_message(request, super().response_action, queryset)

    def save_related(self, request, form, formsets, change):
        """Memberships were written by the action in save_model; the form's many-to-many
        fields are never saved directly."""

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(ThroughActionsAdmin, BaseUserAdmin):
    list_display = ["username", "email", "is_service_account", "is_staff", "is_superuser", "is_active"]
    list_filter = ["is_service_account", "is_staff", "is_superuser", "is_active"]
    fieldsets = _without_permissions(BaseUserAdmin.fieldsets) + (("Modelgate", {"fields": ["is_service_account"]}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Modelgate", {"fields": ["is_service_account"]}),)
    readonly_fields = ["last_login", "date_joined"]
    change_password_form = PasswordSetForm
    actions = ["issue_token"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            password = data["password1"] if data.get("set_usable_password") else None
            obj.pk = actions.user_create(
                _admin_ctx(request), username=data["username"], password=password,
                is_service_account=data.get("is_service_account", False),
            ).pk
            return
        changes = {field: data[field] for field in form.changed_data if field in actions.USER_FIELDS}
        if "groups" in form.changed_data:
            changes["teams"] = list(data["groups"])
        actions.user_update(_admin_ctx(request), user=obj, **changes)

    def delete_model(self, request, obj):
        actions.user_delete(_admin_ctx(request), user=obj)

    @sensitive_post_parameters_m
    def user_change_password(self, request, id, form_url=""):
        """Django's page (it shows the form and its errors), but a valid new password, or
        none, is set by the action."""
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None and self.has_change_permission(request, user):
            form = self.change_password_form(user, request.POST)
            usable = form.is_valid() and form.cleaned_data["set_usable_password"]
            # As Django's page: disabling password sign-in takes its own button.
            if form.is_valid() and (usable or "unset-password" in request.POST):
                password = form.cleaned_data["password1"] if usable else None
                try:
                    user = actions.user_password_set(_admin_ctx(request), user=user, password=password)
                except RegistryError as exc:
                    messages.error(request, exc.message)
                    return HttpResponseRedirect(request.get_full_path())
                messages.success(request, "Password changed." if usable else "Password sign-in was disabled.")
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    @admin.action(description="Issue an API token (shown once)")
    def issue_token(self, request, queryset):
        ctx = _admin_ctx(request)
        for user in queryset:
            _, raw = actions.token_create(ctx, user=user, name=f"admin:{request.user.username}")
            messages.warning(request, f"Token for {user.username} (copy it now, it is not shown again): {raw}")


admin.site.unregister(Group)


@admin.register(Group)
class TeamAdmin(ThroughActionsAdmin, BaseGroupAdmin):
    """Teams are named groups of users, with their members set here or on each user's page;
    their grants are made per model or registry-wide through the permissions action."""

    form = TeamForm
    fields = ["name", "members"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            obj.pk = actions.team_create(_admin_ctx(request), name=data["name"], members=data["members"]).pk
            return
        actions.team_update(
            _admin_ctx(request), team=obj,
            name=data["name"] if "name" in form.changed_data else None,
            members=data["members"] if "members" in form.changed_data else None,
        )

    def delete_model(self, request, obj):
        actions.team_delete(_admin_ctx(request), team=obj)


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
        revoked = sum(actions.token_revoke(ctx, token=token) for token in queryset)
        messages.success(request, f"{revoked} token(s) revoked.")
