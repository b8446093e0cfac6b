from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.forms import ThrottledSignInMixin
from audit import events
from notifications.models import Preference, Subscription
from registry import stages as lifecycle


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """Django's password sign-in (sessions, CSRF). Service accounts are refused by the
    authentication backend: they use tokens only. Failed sign-ins are limited like every
    password sign-in (accounts.signin): while locked out the form says so."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match an account that may sign in.",
    }


class ModelSearchForm(forms.Form):
    ORDERS = [
        ("name", "Name (A-Z)"),
        ("-name", "Name (Z-A)"),
        ("-last_updated_timestamp", "Recently modified"),
        ("last_updated_timestamp", "Least recently modified"),
        ("-creation_timestamp", "Newest"),
    ]
    filter = forms.CharField(
        required=False, label="Filter",
        widget=forms.TextInput(attrs={"placeholder": "name LIKE 'fraud%' AND tags.team = 'risk'"}),
    )
    order = forms.ChoiceField(choices=ORDERS, required=False, label="Sort by")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def order_by(self):
        # The UI spells "descending" with a leading minus; MLflow's grammar with DESC.
        order = self.cleaned_data.get("order") or "name"
        return [f"{order[1:]} DESC" if order.startswith("-") else f"{order} ASC"]


# The version page, reviews and the activity log (UI-2) ------------------------------------------

def stage_choices():
    """Every stage of the lifecycle, custom ones included, as it is when the form is used."""
    return [(name, name) for name in lifecycle.names()]


def request_stage_choices():
    return [(name, name) for name in lifecycle.requestable_names()]


def _comment_field(label="Comment", required=False):
    return forms.CharField(
        required=required, label=label, max_length=65_535, widget=forms.Textarea(attrs={"rows": 2})
    )


class DescriptionForm(forms.Form):
    description = forms.CharField(
        required=False, label="Description", max_length=65_535, widget=forms.Textarea(attrs={"rows": 4})
    )


class TagForm(forms.Form):
    # Lengths and the key's characters are the action's rules (registry/validators.py).
    key = forms.CharField(label="Key")
    value = forms.CharField(required=False, label="Value")


class TagKeyForm(forms.Form):
    key = forms.CharField(label="Key")


class TransitionRequestForm(forms.Form):
    stage = forms.ChoiceField(choices=request_stage_choices, label="Stage")
    comment = _comment_field()


class DirectTransitionForm(forms.Form):
    stage = forms.ChoiceField(choices=stage_choices, label="Stage")
    archive_existing_versions = forms.BooleanField(
        required=False, label="Archive the versions now in that stage (an active stage)"
    )
    comment = _comment_field()


class AliasForm(forms.Form):
    alias = forms.CharField(max_length=255, label="Alias")
    comment = _comment_field("Comment (for a protected alias's request)")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = _comment_field()
    archive_existing_versions = forms.BooleanField(required=False)


class CommentForm(forms.Form):
    comment = _comment_field("Comment", required=True)


class ActivityFilterForm(forms.Form):
    model = forms.CharField(required=False, max_length=256, label="Model")
    person = forms.CharField(required=False, max_length=150, label="Person")
    event = forms.ChoiceField(
        required=False, label="Event", choices=[("", "Any event")] + [(e, e) for e in sorted(events.ALL)]
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


# Notifications ------------------------------------------------------------------------------------

class DeliveryForm(forms.Form):
    delivery = forms.ChoiceField(choices=Preference.DELIVERIES, widget=forms.RadioSelect, label="Email me")


class SubscriptionForm(forms.Form):
    state = forms.ChoiceField(choices=[("", "Defaults"), *Subscription.STATES], required=False, label="Notifications")
