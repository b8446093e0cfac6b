from django.contrib.auth.backends import ModelBackend


class PeopleOnlyModelBackend(ModelBackend):
    """Password logins (admin sessions, HTTP Basic) are for people: service accounts only
    authenticate with tokens."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)
