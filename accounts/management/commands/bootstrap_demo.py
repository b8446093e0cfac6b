import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.actions import token_create, user_create
from accounts.models import User
from audit.ctx import Ctx


class Command(BaseCommand):
    help = "Create the demo admin (first run only) and print its password and a fresh API token."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        password_file = settings.VAR_DIR / f"{username}-password.txt"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_create(Ctx.cli(), username=username, email=f"{username}@localhost", password=password,
                               is_staff=True, is_superuser=True)
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        elif password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = "(unchanged; set by whoever created this user)"
        _, raw = token_create(Ctx.cli(user), user=user, name="make-run")
        self.stdout.write(
            f"Demo admin: {username} / {password}\n"
            f"API token:  {raw}\n"
            f"  export MLFLOW_REGISTRY_URI=http://127.0.0.1:8000 MLFLOW_TRACKING_TOKEN={raw}"
        )
