import ipaddress
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.actions import token_create, token_revoke, user_create
from accounts.models import ApiToken, User, hash_token
from audit.ctx import Ctx

TOKEN_NAME = "make-run"


def client_url(host, port):
    """The URL a client on this machine uses for a server bound to host:port."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"  # a host name
    if ip.is_unspecified:  # bound to every address: loopback is one of them
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    return f"http://[{ip}]:{port}" if ip.version == 6 else f"http://{ip}:{port}"


class Command(BaseCommand):
    help = ("Create the demo admin (first run only) and print its password, its API token (the same "
            "one every run, while it stays valid) and the registry's address.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--host", default="127.0.0.1", help="The address the server listens on.")
        parser.add_argument("--port", type=int, default=8000, help="The port the server listens on.")

    def handle(self, *args, username, host, port, **options):
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
        raw = self._demo_token(user)
        self.stdout.write(
            f"Demo admin: {username} / {password}\n"
            f"API token:  {raw}\n"
            f"  export MLFLOW_REGISTRY_URI={client_url(host, port)} MLFLOW_TRACKING_TOKEN={raw}"
        )

    @staticmethod
    def _demo_token(user):
        """The token saved by an earlier run if it still works; else a new one, saved, with
        every older demo token of this user revoked (their raw values are lost with the file)."""
        token_file = settings.VAR_DIR / f"{user.username}-token.txt"
        saved = token_file.read_text().strip() if token_file.exists() else ""
        if saved and ApiToken.objects.usable().filter(user=user, token_hash=hash_token(saved)).exists():
            return saved
        token, raw = token_create(Ctx.cli(user), user=user, name=TOKEN_NAME)
        for older in ApiToken.objects.usable().filter(user=user, name=TOKEN_NAME).exclude(pk=token.pk):
            token_revoke(Ctx.cli(user), token=older)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        token_file.touch(mode=0o600)
        token_file.chmod(0o600)
        token_file.write_text(raw + "\n")
        return raw
