"""The admin site: Django's, with its two password pages on the accounts rules. The login is
throttled like every password sign-in (the form says so, and the page answers 429 with
Retry-After while locked out); changing one's own password goes through the action, so it
is on the activity log."""

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse

from audit.ctx import VIA_ADMIN, Ctx
from audit.errors import RegistryError

from . import actions
from .forms import AdminSignInForm


class OwnPasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        try:
            user = actions.user_password_set(
                Ctx.from_request(self.request, via=VIA_ADMIN), user=form.user,
                password=form.cleaned_data["new_password1"],
            )
        except RegistryError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


class AdminSite(admin.AdminSite):
    login_form = AdminSignInForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        throttled = getattr((getattr(response, "context_data", None) or {}).get("form"), "throttled", None)
        if throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(throttled.retry_after)
        return response

    def password_change(self, request, extra_context=None):
        # Django's AdminSite.password_change, with the view that calls the action.
        request.current_app = self.name
        return OwnPasswordChangeView.as_view(
            form_class=AdminPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
