from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import actions
from accounts.models import User
from audit.ctx import Ctx
from audit.errors import RegistryError


class Command(BaseCommand):
    help = "Issue an API token for USERNAME. The token is the last line printed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user if missing.")
        parser.add_argument("--superuser", action="store_true", help="Make the user a superuser.")
        parser.add_argument(
            "--service-account",
            action="store_true",
            help="Create the user as a service account (token-only, no UI login).",
        )
        parser.add_argument("--name", default="cli", help="A name for the token.")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args, username, create, superuser, service_account, name, expires_days, **kw):
        # The operator at the shell acts as the system: creating and promoting users are
        # actions, on the activity log like the admin's.
        operator = Ctx.cli()
        try:
            user = User.objects.filter(username=username).first()
            if user is None:
                if not create:
                    raise CommandError(f"User {username!r} does not exist (pass --create).")
                user = actions.user_create(operator, username=username, is_service_account=service_account)
                self.stdout.write(f"Created user {username}.")
            if superuser and not (user.is_superuser and user.is_staff):
                user = actions.user_update(operator, user=user, is_superuser=True, is_staff=True)
            expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
            _, raw = actions.token_create(Ctx.cli(user), user=user, name=name, expires_at=expires_at)
        except RegistryError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
