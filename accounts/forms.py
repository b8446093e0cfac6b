"""Forms for the admin's people pages and for password sign-in."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from .models import User
from .signin import SignInThrottled


class ThrottledSignInMixin:
    """For a django.contrib.auth AuthenticationForm: while password sign-ins are locked out
    (accounts.signin) the form is invalid with the lockout's message, and `throttled` holds
    the SignInThrottled (its `retry_after`, for a 429's Retry-After)."""

    throttled = None

    def clean(self):
        try:
            return super().clean()
        except SignInThrottled as exc:
            self.throttled = exc
            raise ValidationError(exc.message, code="throttled") from None


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass


class PasswordSetForm(AdminPasswordChangeForm):
    """The user admin's password page. The password is set by accounts.actions.
    user_password_set (UserAdmin.user_change_password): this form never saves one itself."""

    def save(self, commit=True):
        raise RuntimeError("Passwords are set through accounts.actions.user_password_set.")


class TeamForm(forms.ModelForm):
    """A team's name and members; both are saved by the team actions, not by the form."""

    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.order_by("username"), required=False,
        widget=FilteredSelectMultiple("members", is_stacked=False),
    )

    class Meta:
        model = Group
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("members", list(self.instance.user_set.values_list("pk", flat=True)))
