from django import forms
from django.contrib.auth.models import Group

from accounts.levels import GRANTABLE
from accounts.models import User

REVOKE = "REVOKE"


class GrantForm(forms.Form):
    """Grant a level on one model to a user, service account or team, or revoke it."""

    principal = forms.ChoiceField(label="User or team")
    level = forms.ChoiceField(
        choices=[(level.name, level.name) for level in GRANTABLE] + [(REVOKE, "Revoke all access")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = [(f"user:{u}", f"{u} (service account)" if sa else u)
                 for u, sa in User.objects.filter(is_active=True).order_by("username")
                 .values_list("username", "is_service_account")]
        teams = [(f"group:{g}", f"team {g}") for g in Group.objects.order_by("name").values_list("name", flat=True)]
        self.fields["principal"].choices = [("Users", users), ("Teams", teams)]

    def acl_entry(self):
        kind, _, name = self.cleaned_data["principal"].partition(":")
        if kind == "group":
            return {"group_name": name}
        user = User.objects.get(username=name)
        return {"service_principal_name" if user.is_service_account else "user_name": name}
