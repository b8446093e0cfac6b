"""The pages. Views are thin: read through selectors, write through actions with
`via="ui"`, and turn a refusal into a message on the page, never a bare 403 or 500."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularRedocView

from accounts import policies as access
from accounts.levels import Level
from audit.ctx import VIA_UI, Ctx
from audit.errors import RegistryError, ResourceDoesNotExist
from notifications import actions as notification_actions
from notifications import selectors as notification_selectors
from registry import actions as registry_actions
from registry import selectors as registry_selectors
from registry import stages as lifecycle
from registry.search import encode_page_token
from webhooks import selectors as webhook_selectors
from workflows import actions as workflow_actions
from workflows import policies as workflow_policies
from workflows import render as workflow_render
from workflows import selectors as workflow_selectors

from .forms import (
    ActivityFilterForm,
    AliasForm,
    CommentForm,
    DeliveryForm,
    DescriptionForm,
    DirectTransitionForm,
    ModelSearchForm,
    ReviewForm,
    SignInForm,
    SubscriptionForm,
    TagForm,
    TagKeyForm,
    TransitionRequestForm,
)
from .sentences import describe

MODELS_PER_PAGE = 25


def model_url(name):
    return reverse("ui:model", args=[name])


def version_url(name, number):
    return reverse("ui:version", args=[name, number])


def version_link(mv):
    return {"number": mv.version, "url": version_url(mv.model.name, mv.version), "version": mv}


def model_row(model):
    """One row of the models list, from a model as selectors return it (latest version per
    stage and aliases prefetched)."""
    latest = sorted(getattr(model, "latest_versions", []), key=lambda mv: mv.version)
    by_stage = {}
    for mv in latest:
        mv.model = model  # already loaded: no query per link
        by_stage.setdefault(mv.current_stage, []).append(version_link(mv))
    return {
        "model": model,
        "url": model_url(model.name),
        "latest": version_link(latest[-1]) if latest else None,
        "staging": by_stage.get("Staging", []),
        "production": by_stage.get("Production", []),
        # Custom stages (active ones count for latest versions), newest version last.
        "other_stages": [
            {"stage": stage, "versions": links} for stage, links in by_stage.items()
            if stage not in ("None", "Staging", "Production", "Archived")
        ],
        "aliases": [
            {"alias": a.alias, "number": a.version.version, "url": version_url(model.name, a.version.version)}
            for a in registry_selectors.loaded(model, "aliases")
        ],
        "tags": registry_selectors.loaded(model, "tags"),
    }


def ui_ctx(request):
    return Ctx.from_request(request, via=VIA_UI)


def found(read, *args, **kwargs):
    """A selector's answer, or the page's 404: a model the viewer cannot read is missing."""
    try:
        return read(*args, **kwargs)
    except ResourceDoesNotExist as exc:
        raise Http404(exc.message) from None


def perform(request, action, *, success, **kwargs):
    """Run one action as the signed-in user; say what happened, or why it was refused.
    Returns the action's result, or None when it was refused."""
    try:
        result = action(ui_ctx(request), **kwargs)
    except RegistryError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


class ApiDocsView(SpectacularRedocView):
    """Redoc from drf-spectacular-sidecar's static files, without the Google Fonts links of
    drf-spectacular's page. Redoc's footer logo is an image on its CDN: the policy keeps the
    browser on this server, so the docs work offline and tell no third party who reads them."""

    template_name = "ui/api_redoc.html"
    POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; worker-src 'self' blob:")

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = self.POLICY
        return response


class SignInView(auth_views.LoginView):
    template_name = "ui/signin.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled is not None:  # locked out: say so, and when to come back
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.retry_after)
        return response


@require_POST
def sign_out(request):
    auth_views.logout(request)
    messages.info(request, "You are signed out.")
    return redirect("ui:signin")


def home(request):
    if not request.user.is_authenticated:
        return redirect("ui:signin")
    return models_list(request)


@login_required
def models_list(request):
    form = ModelSearchForm(request.GET or None)
    models, next_token, status = [], "", 200
    page_number = 1
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        page_number = data.get("page") or 1
        try:
            models, next_token = registry_selectors.models_search(
                request.user,
                filter_string=data.get("filter", ""),
                max_results=MODELS_PER_PAGE,
                order_by=form.order_by() if request.GET else None,
                page_token=encode_page_token((page_number - 1) * MODELS_PER_PAGE) if page_number > 1 else "",
            )
        except RegistryError as exc:
            messages.error(request, exc.message)
            status = 400
    else:
        status = 400
    rows = [model_row(m) for m in models]
    return render(request, "ui/models_list.html", {
        "nav": "models",
        "form": form,
        "models": models,
        "rows": rows,
        "show_other_stages": any(row["other_stages"] for row in rows),
        "page_number": page_number,
        "has_next": bool(next_token),
    }, status=status)


# The model page and compare (UI-1) --------------------------------------------------------------

MODEL_ACTIVITY_SHOWN = 15


def _aliases_by_version(model):
    aliases = {}
    for row in registry_selectors.loaded(model, "aliases"):
        aliases.setdefault(row.version_id, []).append(row.alias)
    return aliases


@login_required
def model_detail(request, name):
    model = found(registry_selectors.model_get, request.user, name)
    versions = found(registry_selectors.model_versions, request.user, name)
    aliases_by_version = _aliases_by_version(model)
    manages = access.has_level(request.user, model, Level.CAN_MANAGE)
    requests = [
        {"req": req, "url": version_url(name, req.version.version)}
        for kind in ("stage", "alias") for req in workflow_selectors.open_requests(request.user, name=name, kind=kind)
    ]
    return render(request, "ui/model.html", {
        "nav": "models",
        "model": model,
        "row": model_row(model),
        "versions": [
            {**version_link(mv), "aliases": aliases_by_version.get(mv.pk, [])} for mv in versions
        ],
        "may_edit": access.has_level(request.user, model, Level.CAN_EDIT),
        "subscription": notification_selectors.subscription_state(request.user, model),
        "description_form": DescriptionForm(initial={"description": model.description}),
        "model_tags": registry_selectors.loaded(model, "tags"),
        "tag_form": TagForm(),
        "requests": sorted(requests, key=lambda item: item["req"].created_at),
        "activity": activity_items(
            workflow_selectors.activity_feed(request.user, name=name)[:MODEL_ACTIVITY_SHOWN]
        ),
        "activity_url": f"{reverse('ui:activity')}?{urlencode({'model': name})}",
        # Managers see who holds which level and the model's webhooks; nobody else does.
        "access": registry_selectors.model_access(request.user, name) if manages else None,
        "webhooks": [
            # Where it posts, by host only: a URL may carry a token in its query.
            {"hook": hook, "host": urlsplit(hook.url).hostname or ""}
            for hook in webhook_selectors.model_webhooks(request.user, model)
        ] if manages else None,
    })


@login_required
@require_POST
def model_description(request, name):
    found(registry_selectors.model_get, request.user, name)
    return _submitted(request, DescriptionForm, model_url(name), lambda data: perform(
        request, registry_actions.model_update, success="Description saved.",
        name=name, description=data["description"],
    ))


@login_required
@require_POST
def model_tag_set(request, name):
    found(registry_selectors.model_get, request.user, name)
    return _submitted(request, TagForm, model_url(name), lambda data: perform(
        request, registry_actions.model_tag_set, success=f"Tag {data['key']} set.",
        name=name, key=data["key"], value=data["value"],
    ))


@login_required
@require_POST
def model_tag_delete(request, name):
    found(registry_selectors.model_get, request.user, name)
    return _submitted(request, TagKeyForm, model_url(name), lambda data: perform(
        request, registry_actions.model_tag_delete, success=f"Tag {data['key']} removed.",
        name=name, key=data["key"],
    ))


def _comparison(left, right, aliases_by_version):
    """Two versions side by side: which facts differ, and every tag of either, key by key."""
    def facts(mv):
        return {
            "source": mv.source, "run": (mv.run_id, mv.run_link), "description": mv.description,
            "stage": mv.current_stage, "aliases": sorted(aliases_by_version.get(mv.pk, [])),
            "created_by": mv.created_by_id, "created_at": mv.created_at,
        }

    a, b = facts(left), facts(right)
    tags_a = {t.key: t.value for t in registry_selectors.loaded(left, "tags")}
    tags_b = {t.key: t.value for t in registry_selectors.loaded(right, "tags")}
    return {
        "differs": {fact: a[fact] != b[fact] for fact in a},
        "aliases": (a["aliases"], b["aliases"]),
        "tags": [
            {"key": key, "a": tags_a.get(key), "b": tags_b.get(key), "differs": tags_a.get(key) != tags_b.get(key)}
            for key in sorted(tags_a.keys() | tags_b.keys())
        ],
    }


@login_required
def compare(request, name):
    model = found(registry_selectors.model_get, request.user, name)
    versions = found(registry_selectors.model_versions, request.user, name)
    picked, status = [], 200
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    if a and b:
        try:
            picked = [registry_selectors.version_get(request.user, name, number) for number in (a, b)]
        except RegistryError as exc:
            messages.error(request, exc.message)
            status = 404 if isinstance(exc, ResourceDoesNotExist) else 400
    elif request.GET:
        messages.error(request, "Pick two versions to compare.")
        status = 400
    return render(request, "ui/compare.html", {
        "nav": "models",
        "model": model,
        "model_url": model_url(name),
        "versions": [version_link(mv) for mv in versions],
        "picked": [version_link(mv) for mv in picked],
        "comparison": _comparison(*picked, _aliases_by_version(model)) if picked else None,
        "swap_url": f"?{urlencode({'a': b, 'b': a})}",
    }, status=status)


# The version page: requests, reviews, aliases, comments, activity (UI-2) ------------------------

ACTIVITY_PER_PAGE = 50
# The API's export (JSON Lines); a signed-in page's session authenticates it.
ACTIVITY_EXPORT_URL = "/api/2.0/modelgate/activity/export"


def activity_items(rows):
    """Activity rows as the pages list them: each with its sentence (ui/_activity.html)."""
    return [{"row": row, "sentence": describe(row)} for row in rows]


def _back(request, default):
    """After a POST: back to the form's `next` (a path on this site), else to `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _submitted(request, form_class, then, run):
    """Validate the POSTed form and run(cleaned_data), which calls perform(); a form error is a
    message too. Then back to the page (POST/redirect/GET)."""
    form = form_class(request.POST)
    if form.is_valid():
        run(form.cleaned_data)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return _back(request, then)


def _request_target(req):
    return {"stage": req.to_stage} if req.to_stage else {"alias": req.alias}


def _check_rows(states, latest):
    """Required checks ({name: status as the approval counts it}) with the latest report's
    details link."""
    return [
        {"name": name, "status": status or "missing",
         "details_url": getattr(latest.get(name), "details_url", "")}
        for name, status in sorted(states.items())
    ]


def _version_page(user, mv):
    """Everything the version page shows `user`, read through the selectors."""
    model, name, number = mv.model, mv.model.name, mv.version
    _, checks = workflow_selectors.latest_checks(user, name=name, version=number)
    latest_checks = {check.name: check for check in checks}
    pending = []
    for kind in ("stage", "alias"):
        for req in workflow_selectors.open_requests(user, name=name, version=number, kind=kind):
            state = workflow_selectors.request_review_state(user, req)
            state["check_rows"] = _check_rows(state["checks"], latest_checks)
            pending.append(state)
    _, own, archived_by_others = workflow_selectors.version_activity_for(mv)
    moves = [
        (stage, workflow_policies.why_no_direct_transition(user, model, mv.current_stage, stage))
        for stage in lifecycle.names() if stage != mv.current_stage
    ]
    _, alias_policies = workflow_selectors.policies(user, name=name)
    protected = [
        {"pattern": p.pattern, "needs": workflow_policies.alias_change_needs_request(user, model, p.pattern)}
        for p in alias_policies
    ]
    return {
        "nav": "models",
        "mv": mv,
        "model_url": model_url(name),
        "may_edit": access.has_level(user, model, Level.CAN_EDIT),
        "aliases": [
            {"alias": a.alias, "protected_by": workflow_policies.alias_change_needs_request(user, model, a.alias)}
            for a in registry_selectors.loaded(mv, "aliases")
        ],
        "tags": registry_selectors.loaded(mv, "tags"),
        "protected_aliases": protected,
        "pending": pending,
        "checks": checks,
        "request_stages": [stage for stage in lifecycle.requestable_names() if stage != mv.current_stage],
        "active_stages": lifecycle.active_names(),
        "direct_stages": [stage for stage, why in moves if not why],
        "blocked_stages": [(stage, why) for stage, why in moves if why],
        "comments": [
            # created_at and updated_at are two calls to now(): a second apart means an edit.
            {"row": c, "edited": (c.updated_at - c.created_at).total_seconds() >= 1,
             "actions": workflow_render.comment_json(user, c)["available_actions"]}
            for c in workflow_selectors.comments(user, name=name, version=number)
        ],
        "activity": activity_items(sorted(own + archived_by_others, key=lambda row: row.seq, reverse=True)),
        "compare": _compare_links(user, mv),
    }


def _compare_links(user, mv):
    """Links comparing this version with the Production version and with @champion's, when
    those are other versions (one link per other version)."""
    name, others = mv.model.name, {}
    for p in registry_selectors.latest_versions(user, name, stages=["Production"]):
        others.setdefault(p.version, f"Production (version {p.version})")
    for a in mv.model.aliases.all():
        if a.alias == "champion":
            others.setdefault(a.version.version, f"@champion (version {a.version.version})")
    compare_url = reverse("ui:compare", args=[name])
    return [
        {"label": label, "url": f"{compare_url}?{urlencode({'a': number, 'b': mv.version})}"}
        for number, label in others.items() if number != mv.version
    ]


@login_required
def version_detail(request, name, version):
    mv = found(registry_selectors.version_get, request.user, name, version)
    return render(request, "ui/version.html", _version_page(request.user, mv))


@login_required
@require_POST
def version_description(request, name, version):
    return _submitted(request, DescriptionForm, version_url(name, version), lambda data: perform(
        request, registry_actions.version_update, success="Description saved.",
        name=name, version=version, description=data["description"],
    ))


@login_required
@require_POST
def version_request(request, name, version):
    return _submitted(request, TransitionRequestForm, version_url(name, version), lambda data: perform(
        request, workflow_actions.transition_request_create,
        success=f"Requested {data['stage']} for version {version}; its reviewers see it under Reviews.",
        name=name, version=version, stage=data["stage"], comment=data["comment"],
    ))


@login_required
@require_POST
def version_transition(request, name, version):
    return _submitted(request, DirectTransitionForm, version_url(name, version), lambda data: perform(
        request, registry_actions.version_transition,
        success=lambda mv: f"Version {mv.version} is now in {mv.current_stage}.",
        name=name, version=version, stage=data["stage"],
        archive_existing_versions=data["archive_existing_versions"], comment=data["comment"],
    ))


@login_required
@require_POST
def version_alias(request, name, version):
    """Point an alias at this version; a protected alias the user may not move becomes an alias
    request for its reviewers."""
    mv = found(registry_selectors.version_get, request.user, name, version)

    def run(data):
        alias = data["alias"].strip().removeprefix("@")
        if workflow_policies.alias_change_needs_request(request.user, mv.model, alias):
            perform(
                request, workflow_actions.transition_request_create,
                success=f"@{alias} is protected, so your change is a request: it points @{alias} at "
                f"version {version} once its reviewers approve.",
                name=name, version=version, alias=alias, comment=data["comment"],
            )
        else:
            perform(request, registry_actions.alias_set, success=f"@{alias} now points at version {version}.",
                    name=name, alias=alias, version=version)

    return _submitted(request, AliasForm, version_url(name, version), run)


@login_required
@require_POST
def version_alias_delete(request, name, version):
    alias = request.POST.get("alias", "")
    perform(request, registry_actions.alias_delete, success=f"@{alias} removed.", name=name, alias=alias)
    return _back(request, version_url(name, version))


def _pending_on_page(request, name, version, request_id):
    """The request a form on this version's page names; 404 if the user may not read it or it
    belongs to another version."""
    req = found(workflow_selectors.request_get, request.user, request_id)
    if req.model.name != name or req.version.version != version:
        raise Http404("No such request on this version.")
    return req


def _approval_said(outcome):
    req = outcome.request
    if outcome.closed:
        return f"Not approved: {req.system_comment}"
    if outcome.applied:
        if req.to_stage:
            return f"Approved: version {req.version.version} moved to {req.to_stage}."
        return f"Approved: @{req.alias} now points at version {req.version.version}."
    after = outcome.activity.after or {}
    return (f"Approval recorded ({after.get('approvals')} of {after.get('required')}); the request "
            "applies when its quorum is met.")


@login_required
@require_POST
def request_review(request, name, version, request_id):
    req = _pending_on_page(request, name, version, request_id)

    def run(data):
        common = {"name": name, "version": version, "comment": data["comment"], **_request_target(req)}
        if data["decision"] == "approve":
            perform(request, workflow_actions.transition_approve, success=_approval_said,
                    archive_existing_versions=data["archive_existing_versions"], **common)
        else:
            perform(request, workflow_actions.transition_reject, success="Request rejected.", **common)

    return _submitted(request, ReviewForm, version_url(name, version), run)


@login_required
@require_POST
def request_cancel(request, name, version, request_id):
    req = _pending_on_page(request, name, version, request_id)
    perform(request, workflow_actions.transition_request_cancel, success="Request cancelled.",
            name=name, version=version, creator=req.created_by.username, **_request_target(req))
    return _back(request, version_url(name, version))


@login_required
@require_POST
def comment_add(request, name, version):
    return _submitted(request, CommentForm, version_url(name, version), lambda data: perform(
        request, workflow_actions.comment_create, success="Comment added.",
        name=name, version=version, comment=data["comment"],
    ))


@login_required
@require_POST
def comment_edit(request, name, version, comment_id):
    return _submitted(request, CommentForm, version_url(name, version), lambda data: perform(
        request, workflow_actions.comment_update, success="Comment saved.",
        comment_id=comment_id, comment=data["comment"],
    ))


@login_required
@require_POST
def comment_delete(request, name, version, comment_id):
    perform(request, workflow_actions.comment_delete, success="Comment deleted.", comment_id=comment_id)
    return _back(request, version_url(name, version))


# Reviews, my requests, the registry's activity (UI-2) ---------------------------------------------

@login_required
def reviews(request):
    states = [workflow_selectors.request_review_state(request.user, req)
              for req in workflow_selectors.decidable_requests(request.user)]
    return render(request, "ui/reviews.html", {"nav": "reviews", "states": states})


@login_required
def my_requests(request):
    return render(request, "ui/my_requests.html", {
        "nav": "my-requests", "requests": workflow_selectors.my_requests(request.user),
    })


def _with_links(user, items):
    """Link each item to its model and version under the model's current name (the log keeps
    the name it had), when the user may still open it."""
    uids = {item["row"].model_uid for item in items if item["row"].model_uid}
    names = dict(workflow_selectors.readable_models(user).filter(uid__in=uids).values_list("uid", "name"))
    for item in items:
        name, number = names.get(item["row"].model_uid), item["row"].version
        if name:
            item["model_url"] = model_url(name)
            item["version_url"] = version_url(name, number) if number else ""
    return items


@login_required
def activity(request):
    form = ActivityFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page, status = None, 200
    if request.GET and not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field}: {errors[0]}")
        status = 400
    else:
        try:
            rows = workflow_selectors.activity_feed(
                request.user, name=data.get("model", ""), actor=data.get("person", ""), event=data.get("event", ""),
            )
            page = Paginator(rows, ACTIVITY_PER_PAGE).get_page(data.get("page") or 1)
        except RegistryError as exc:
            messages.error(request, exc.message)
            status = 404 if isinstance(exc, ResourceDoesNotExist) else 400
    model = data.get("model", "")
    may_export = bool(page) and (bool(model) or workflow_selectors.reads_whole_activity_log(request.user))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "ui/activity.html", {
        "nav": "activity",
        "form": form,
        "page": page,
        "items": _with_links(request.user, activity_items(page.object_list)) if page else [],
        "model": model,
        "query": query.urlencode(),
        "export_url": f"{ACTIVITY_EXPORT_URL}?{urlencode({'name': model})}" if model else ACTIVITY_EXPORT_URL,
        "may_export": may_export,
    }, status=status)


# Notifications: how a person gets email, and the models they follow or mute ----------------------

SUBSCRIPTION_DONE = {
    "follow": "You follow {name}: you will hear of its new versions, requests, decisions, comments and failed checks.",
    "mute": "{name} is muted: it sends you nothing, not even requests you could decide.",
    "": "{name} is back to the defaults: you hear of it when a request waits for you, or about your own requests and comments.",
}


@login_required
def notifications(request):
    delivery = notification_selectors.delivery_of(request.user)
    return render(request, "ui/notifications.html", {
        "nav": "notifications",
        "form": DeliveryForm(initial={"delivery": delivery}),
        "delivery": delivery,
        "subscriptions": notification_selectors.subscriptions(request.user),
        "emails": notification_selectors.recent_emails(request.user),
    })


@login_required
@require_POST
def notification_delivery(request):
    return _submitted(request, DeliveryForm, reverse("ui:notifications"), lambda data: perform(
        request, notification_actions.notification_settings_set, success="Email choice saved.",
        delivery=data["delivery"],
    ))


@login_required
@require_POST
def model_subscription(request, name):
    found(registry_selectors.model_get, request.user, name)
    return _submitted(request, SubscriptionForm, model_url(name), lambda data: perform(
        request, notification_actions.model_subscription_set,
        success=SUBSCRIPTION_DONE[data["state"]].format(name=name), name=name, state=data["state"],
    ))
