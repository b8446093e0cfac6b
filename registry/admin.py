"""Read-only views of the registry for operators. Changes go through the API (and, for
approvals, the workflows admin), because every write must pass through an action."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts import policies as access
from accounts.levels import Level
from audit.ctx import VIA_ADMIN, Ctx
from audit.errors import RegistryError
from audit.models import Activity

from . import actions, permissions, stages
from .forms import REVOKE, GrantForm
from .models import ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelAlias, RegisteredModelTag, Stage


class ReadOnlyAdminMixin:
    def has_module_permission(self, request):
        # Staff browse the registry; what each may see is filtered by model permissions.
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ModelTagInline(ReadOnlyInline):
    model = RegisteredModelTag
    fields = ["key", "value"]
    readonly_fields = fields


class AliasInline(ReadOnlyInline):
    model = RegisteredModelAlias
    fields = ["alias", "version", "updated_at"]
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ["version", "current_stage", "source", "run_id", "created_by", "created_at", "deleted_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "uid", "created_by", "created_at", "updated_at"]
    search_fields = ["name", "uid"]
    readonly_fields = ["uid", "name", "description", "created_by", "created_at", "updated_at", "next_version"]
    inlines = [ModelTagInline, AliasInline, VersionInline]
    change_form_template = "admin/registry/registeredmodel/change_form.html"

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        # Staff see only the models they may read, as in the API.
        return access.readable(request.user, super().get_queryset(request))

    def get_urls(self):
        return [
            path("<int:pk>/access/", self.admin_site.admin_view(self.access_view),
                 name="registry_registeredmodel_access"),
            *super().get_urls(),
        ]

    def access_view(self, request, pk):
        """Who has which level on this model (direct, team, registry-wide), and a form to
        grant or revoke, which calls the same action as the permissions API."""
        model = get_object_or_404(self.get_queryset(request), pk=pk)
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            ctx = Ctx.from_request(request, via=VIA_ADMIN)
            entry = form.acl_entry()
            try:
                if form.cleaned_data["level"] == REVOKE:
                    # The permissions API has no revoke: replace the grants with all the others.
                    others = [e for e in permissions.acl_snapshot(permissions.model_grants(model))
                              if any(e.get(k) != v for k, v in entry.items())]
                    actions.model_permissions_change(ctx, uid=model.uid, access_control_list=others, replace=True)
                else:
                    actions.model_permissions_change(
                        ctx, uid=model.uid, replace=False,
                        access_control_list=[{**entry, "permission_level": form.cleaned_data["level"]}],
                    )
            except RegistryError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Access updated.")
                return redirect(reverse("admin:registry_registeredmodel_access", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": model,
            "title": f"Access to {model.name}",
            "direct": permissions.acl_snapshot(permissions.model_grants(model)),
            "registry_wide": permissions.acl_snapshot(permissions.root_grants()),
            "default_level": access.default_level().name,
            "your_level": access.effective_level(request.user, model).name,
            "form": form,
        }
        return TemplateResponse(request, "admin/registry/registeredmodel/access.html", context)


class VersionTagInline(ReadOnlyInline):
    model = ModelVersionTag
    fields = ["key", "value"]
    readonly_fields = fields


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["model", "version", "current_stage", "run_id", "created_by", "created_at", "deleted_at"]
    list_filter = ["current_stage"]
    search_fields = ["model__name", "run_id", "source"]
    list_select_related = ["model", "created_by"]
    readonly_fields = [
        "model", "version", "current_stage", "source", "run_id", "run_link", "logged_model_id",
        "description", "created_by", "created_at", "updated_at", "deleted_at",
    ]
    inlines = [VersionTagInline]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        models = access.readable(request.user, RegisteredModel.objects.all())
        return super().get_queryset(request).filter(model__in=models, deleted_at__isnull=True)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The log is append-only: nobody adds, changes or deletes rows here, superusers included."""

    list_display = ["seq", "created_at", "actor", "via", "event", "model_name", "version", "target"]
    list_filter = ["event", "via"]
    search_fields = ["model_name", "actor", "request_id", "target"]
    readonly_fields = [f.name for f in Activity._meta.fields]
    actions = None

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if access.registry_wide_level(request.user) >= Level.CAN_MANAGE:
            return rows
        # Others see the history of the models they may read.
        uids = access.readable(request.user, RegisteredModel.objects.all()).values("uid")
        return rows.filter(model_uid__in=uids)


class StageForm(forms.ModelForm):
    required_level = forms.ChoiceField(choices=[(level.name, level.name) for level in stages.STAGE_LEVELS])
    position = forms.IntegerField(
        required=False, min_value=stages.FIRST_CUSTOM_POSITION, max_value=stages.LAST_CUSTOM_POSITION,
        help_text="None is 0, Staging 100, Production 200, Archived 300. Empty: after Production "
        "and the custom stages there.",
    )

    class Meta:
        model = Stage
        fields = ["name", "position", "required_level", "active"]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Custom stages: staff see them; registry admins add and delete them, through the
    actions (one activity each). A stage is never edited: delete it and define it anew."""

    form = StageForm
    list_display = ["name", "position", "required_level", "active", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request) and access.is_registry_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            obj.pk = Stage.objects.get(name=actions.stage_create(
                Ctx.from_request(request, via=VIA_ADMIN), name=data["name"],
                required_level=data["required_level"], active=data["active"], position=data["position"],
            ).name).pk
        except RegistryError as exc:
            messages.error(request, exc.message)
            obj._refused = True

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "_refused", False):
            return redirect(reverse("admin:registry_stage_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def _delete(self, request, obj):
        try:
            actions.stage_delete(Ctx.from_request(request, via=VIA_ADMIN), name=obj.name)
        except RegistryError as exc:
            messages.error(request, exc.message)
            request._stage_refused = True

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        # Back to the list (stages are never changed, so Django would go to the index), and
        # no "deleted successfully" after a refusal.
        if not getattr(request, "_stage_refused", False):
            messages.success(request, f"The stage “{obj_display}” was deleted.")
        return redirect(reverse("admin:registry_stage_changelist"))

    def get_actions(self, request):
        # One stage at a time, from its page: "delete selected" would report success for
        # stages the action refused.
        actions_ = super().get_actions(request)
        actions_.pop("delete_selected", None)
        return actions_
