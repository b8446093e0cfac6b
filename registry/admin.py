"""Read-only views of the registry for operators. Changes go through the API (and, for
approvals, the workflows admin), because every write must pass through an action."""

from django.contrib import admin

from .models import Activity, ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelAlias, RegisteredModelTag


class ReadOnlyAdminMixin:
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

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


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
