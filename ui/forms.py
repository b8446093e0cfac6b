from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's password sign-in (sessions, CSRF). Service accounts are refused by the
    authentication backend: they use tokens only."""

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
