from dataclasses import replace

from django.contrib.auth.backends import ModelBackend

from audit.ctx import Ctx

from . import actions, signin
from .models import User


class PeopleOnlyModelBackend(ModelBackend):
    """Password logins (admin sessions, the sign-in page, HTTP Basic) are for people: service
    accounts only authenticate with tokens. Failed passwords are counted and lock the
    username or address out (accounts.signin): authenticate() then raises SignInThrottled."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = signin.client_address(request)
        signin.check(username, address)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            signin.forget_failures(username)
            return user
        reached = signin.count_failure(username, address)
        if reached:
            # The system locks the sign-ins out; the log names the address it came from.
            ctx = replace(Ctx.system(getattr(request, "request_id", None)), client_ip=address)
            for scope, failures in reached:
                actions.sign_in_lock(ctx, scope=scope, username=username, address=address,
                                     failures=failures, path=getattr(request, "path", ""))
            signin.check(username, address)  # this failure locked them out
        return None

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)
