"""The pages. Views are thin: read through selectors, write through actions with
`via="ui"`, and turn a refusal into a message on the page, never a bare 403 or 500."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularRedocView

from audit.ctx import VIA_UI, Ctx
from audit.errors import RegistryError, ResourceDoesNotExist
from registry import selectors as registry_selectors
from registry.search import encode_page_token

from .forms import ModelSearchForm, SignInForm

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
        "aliases": [
            {"alias": a.alias, "number": a.version.version, "url": version_url(model.name, a.version.version)}
            for a in model.aliases.all()
        ],
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
    return render(request, "ui/models_list.html", {
        "nav": "models",
        "form": form,
        "models": models,
        "rows": [model_row(m) for m in models],
        "page_number": page_number,
        "has_next": bool(next_token),
    }, status=status)


def _aliases_by_version(model):
    aliases = {}
    for row in model.aliases.all():
        aliases.setdefault(row.version_id, []).append(row.alias)
    return aliases


@login_required
def model_detail(request, name):
    model = found(registry_selectors.model_get, request.user, name)
    versions = found(registry_selectors.model_versions, request.user, name)
    aliases_by_version = _aliases_by_version(model)
    return render(request, "ui/model.html", {
        "nav": "models",
        "model": model,
        "row": model_row(model),
        "versions": [
            {**version_link(mv), "aliases": aliases_by_version.get(mv.pk, [])} for mv in versions
        ],
    })


def _comparison(left, right, aliases_by_version):
    """Two versions side by side: which facts differ, and every tag of either, key by key."""
    def facts(mv):
        return {
            "source": mv.source, "run": (mv.run_id, mv.run_link), "description": mv.description,
            "stage": mv.current_stage, "aliases": sorted(aliases_by_version.get(mv.pk, [])),
            "created_by": mv.created_by_id, "created_at": mv.created_at,
        }

    a, b = facts(left), facts(right)
    tags_a = {t.key: t.value for t in left.tags.all()}
    tags_b = {t.key: t.value for t in right.tags.all()}
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


@login_required
def version_detail(request, name, version):
    mv = found(registry_selectors.version_get, request.user, name, version)
    return render(request, "ui/version.html", {
        "nav": "models",
        "mv": mv,
        "model_url": model_url(name),
        "aliases": [a.alias for a in mv.aliases.all()],
    })
