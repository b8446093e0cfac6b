from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.actions import token_create
from accounts.models import User
from audit.ctx import Ctx


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
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"User {username!r} does not exist (pass --create).")
            user = User(username=username, is_service_account=service_account)
            user.set_unusable_password()
            user.save()
            self.stdout.write(f"Created user {username}.")
        if superuser and not (user.is_superuser and user.is_staff):
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        _, raw = token_create(Ctx.cli(user), user=user, name=name, expires_at=expires_at)
        self.stdout.write(raw)
