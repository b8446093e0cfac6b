"""The approvers' admin: a pending-requests queue, request pages with approve/reject, and
"request a transition" on a version's page. Every button calls the same actions as the API,
so permissions and policies hold here too."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from audit.ctx import VIA_ADMIN, Ctx
from audit.errors import RegistryError
from registry import stages as lifecycle
from registry.admin import ModelVersionAdmin
from registry.models import ModelVersion

from . import actions, policies, render, selectors
from .models import AliasPolicy, StagePolicy, TransitionRequest


class ReviewForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    archive_existing_versions = forms.BooleanField(required=False)


class RequestTransitionForm(forms.Form):
    # A callable: the lifecycle as it is when the form is shown, custom stages included.
    stage = forms.ChoiceField(choices=lambda: [(s, s) for s in lifecycle.requestable_names()])
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


def request_row(user, req):
    """What the queue and the request page show about one request."""
    policy = policies.policy_for(req)
    required_checks = getattr(policy, "required_checks", None) or []
    return {
        "req": req,
        "age": timezone.now() - req.created_at,
        "approvals": policies.approval_count(req),
        "needed": policies.approvals_needed(policy),
        "checks": policies.check_states(req.version, required_checks, for_request=req),
        "actions": policies.available_actions(user, req),
        # Closed by the system at the next review: say so before an approver tries.
        "stale": bool(policies.stale_reason(req)),
    }


def review(request, req, data):
    """Apply a ReviewForm's decision through the workflow actions; report in messages."""
    ctx = Ctx.from_request(request, via=VIA_ADMIN)
    target = {"stage": req.to_stage} if req.to_stage else {"alias": req.alias}
    common = {"name": req.model.name, "version": req.version.version, "comment": data["comment"], **target}
    try:
        if data["decision"] == "approve":
            outcome = actions.transition_approve(
                ctx, archive_existing_versions=data["archive_existing_versions"], **common
            )
        else:
            outcome = actions.transition_reject(ctx, **common)
    except RegistryError as exc:
        messages.error(request, exc.message)
        return
    if outcome.closed:
        messages.warning(request, outcome.request.system_comment)
    elif outcome.applied:
        messages.success(request, f"Approved: {req.model.name} v{req.version.version} moved to {req.target_label}.")
    elif data["decision"] == "approve":
        messages.success(request, "Approval recorded; the request applies when its quorum is met.")
    else:
        messages.success(request, "Request rejected.")


@admin.register(TransitionRequest)
class TransitionRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "version_number", "target_label", "created_by", "status", "created_at"]
    list_filter = ["status", "to_stage"]
    search_fields = ["model__name", "created_by__username", "alias"]
    list_select_related = ["model", "version", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        # Approvers are staff without Django model permissions: what they may do on each
        # request is decided by the workflow policies, not by the admin.
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        return super().get_queryset(request).filter(model__in=selectors.readable_models(request.user))

    @admin.display(description="version")
    def version_number(self, obj):
        return obj.version.version

    def get_urls(self):
        return [
            path("pending/", self.admin_site.admin_view(self.pending_view), name="workflows_pending"),
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="workflows_review"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # The approvers' landing page is the queue, unless a filter is asked for.
        if not request.GET:
            return redirect("admin:workflows_pending")
        return super().changelist_view(request, extra_context)

    def pending_view(self, request):
        rows = [request_row(request.user, req) for req in selectors.pending_requests(request.user)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Pending requests",
            "rows": rows,
            "form": ReviewForm(),
        }
        return TemplateResponse(request, "admin/workflows/pending.html", context)

    def review_view(self, request, pk):
        req = get_object_or_404(self.get_queryset(request).select_related("model", "version"), pk=pk)
        if request.method == "POST":
            form = ReviewForm(request.POST)
            if form.is_valid():
                review(request, req, form.cleaned_data)
            else:
                messages.error(request, "Choose approve or reject.")
            back = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
                back = reverse("admin:workflows_pending")
            return redirect(back)
        return redirect(reverse("admin:workflows_transitionrequest_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        req = get_object_or_404(self.get_queryset(request).select_related("model", "version", "created_by"), pk=object_id)
        _, own, _ = selectors.version_activity_for(req.version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": req,
            "title": f"Request #{req.pk}: {req.model.name} v{req.version.version} to {req.target_label}",
            "row": request_row(request.user, req),
            "reviews": req.reviews.select_related("reviewer"),
            "activity": [render.activity_json(a) for a in own],
            "form": ReviewForm(),
        }
        return TemplateResponse(request, "admin/workflows/request.html", context)


class PolicyAdmin(admin.ModelAdmin):
    """Policies are listed, saved and deleted (one by one or with "delete selected") only by
    those who may manage them, and always through their actions (permission checks, the
    registry-wide floor, the activity log); a refusal shows as an error instead of the admin's
    success message. Subclasses name the actions and the field that identifies a policy
    besides its model."""

    key_field = ""
    set_action = delete_action = None

    def _call(self, request, action, obj, **fields):
        name = obj.model.name if obj.model_id else ""
        return action(Ctx.from_request(request, via=VIA_ADMIN), name=name,
                      **{self.key_field: getattr(obj, self.key_field)}, **fields)

    def _delete(self, request, obj):
        try:
            self._call(request, type(self).delete_action, obj)
        except RegistryError as exc:
            messages.error(request, exc.message)

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in self.fields if f not in {"model", self.key_field}}
        try:
            obj.pk = self._call(request, type(self).set_action, obj, **fields).pk
        except RegistryError as exc:
            messages.error(request, exc.message)
            obj._refused = True

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected": one action (and one activity) per policy.
        for obj in queryset.select_related("model"):
            self._delete(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(obj, "_refused", False):
            return redirect(reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(obj, "_refused", False):
            return redirect(reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist"))
        return super().response_change(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("model", "approver_team")
        if policies.is_registry_admin(request.user):
            return queryset
        return queryset.filter(model__in=selectors.manageable_models(request.user))

    def get_readonly_fields(self, request, obj=None):
        # A policy stays the one it is: another model or stage is another policy.
        return ["model", self.key_field] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "model":
            kwargs["queryset"] = selectors.manageable_models(request.user).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _manages_policies(self, request):
        user = request.user
        return user.is_active and user.is_staff and (
            policies.is_registry_admin(user) or selectors.manageable_models(user).exists()
        )

    def has_module_permission(self, request):
        return self._manages_policies(request)

    def has_add_permission(self, request):
        return self._manages_policies(request)

    def has_view_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self._manages_policies(request)
        return request.user.is_staff and policies.may_manage_policy(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return self._manages_policies(request)
        return request.user.is_staff and policies.may_manage_policy(request.user, obj, deleting=True)


@admin.register(StagePolicy)
class StagePolicyAdmin(PolicyAdmin):
    list_display = ["stage", "model", "required_approvals", "approver_team", "separation_of_duties",
                    "require_request", "required_checks", "archive_existing_on_approval", "move_alias_on_approval",
                    "set_by_registry_admin"]
    list_filter = ["stage"]
    fields = ["model", "stage", "required_approvals", "approver_team", "separation_of_duties", "require_request",
              "required_checks", "archive_existing_on_approval", "move_alias_on_approval"]
    key_field = "stage"
    set_action, delete_action = actions.stage_policy_set, actions.stage_policy_delete

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "stage":  # the stages a policy may govern, custom ones included
            return forms.ChoiceField(choices=lambda: [(s, s) for s in lifecycle.reviewable_names()])
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(AliasPolicy)
class AliasPolicyAdmin(PolicyAdmin):
    list_display = ["pattern", "model", "required_level", "required_approvals", "approver_team", "separation_of_duties",
                    "set_by_registry_admin"]
    fields = ["model", "pattern", "required_level", "required_approvals", "approver_team", "separation_of_duties",
              "required_checks"]
    key_field = "pattern"
    set_action, delete_action = actions.alias_policy_set, actions.alias_policy_delete


# A version's page, extended: its activity, comments and checks, and "request a transition".
admin.site.unregister(ModelVersion)


@admin.register(ModelVersion)
class VersionWithWorkflowAdmin(ModelVersionAdmin):
    change_form_template = "admin/registry/modelversion/change_form.html"

    def get_urls(self):
        return [
            path("<int:pk>/request-transition/", self.admin_site.admin_view(self.request_transition_view),
                 name="workflows_request_transition"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        mv = get_object_or_404(self.get_queryset(request), pk=object_id)
        _, own, archived = selectors.version_activity_for(mv)
        feed = [render.activity_json(a) for a in own] + [render.archived_activity_json(a, mv.version) for a in archived]
        feed.sort(key=lambda a: a["creation_timestamp"])
        extra = {
            "activity": feed,
            "comments": mv.comments.select_related("user"),
            "open_requests": [request_row(request.user, r) for r in mv.transition_requests.filter(
                status=TransitionRequest.PENDING).select_related("created_by", "model", "version")],
            "request_form": RequestTransitionForm(),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def request_transition_view(self, request, pk):
        mv = get_object_or_404(self.get_queryset(request).select_related("model"), pk=pk)
        form = RequestTransitionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                req = actions.transition_request_create(
                    Ctx.from_request(request, via=VIA_ADMIN), name=mv.model.name, version=mv.version,
                    stage=form.cleaned_data["stage"], comment=form.cleaned_data["comment"],
                )
            except RegistryError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Requested {req.to_stage} for {mv.model.name} v{mv.version}.")
        return redirect(reverse("admin:registry_modelversion_change", args=[pk]))
