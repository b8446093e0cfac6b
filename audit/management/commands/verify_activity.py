import base64
import binascii

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints as external
from audit.activity import verify_chain, verify_checkpoints
from audit.models import Checkpoint


class Command(BaseCommand):
    help = ("Re-walk the activity log's hash chain and check it against the signed checkpoints (the "
            "database's and those kept outside it); report the first altered, removed or reordered row.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints", action="append", default=[], metavar="FILE",
            help="More checkpoint files (JSON Lines) to check against, besides MODELGATE_ACTIVITY_CHECKPOINT_FILE.",
        )
        parser.add_argument(
            "--public-key", default="", metavar="BASE64",
            help="Verify signatures with this Ed25519 public key (raw, base64) instead of the server's own.",
        )

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Activity log verification FAILED at row #{report.first_bad_seq}: {report.problem} "
                f"({report.checked} rows verified before it)."
            )
        files = list(options["checkpoints"])
        default = settings.MODELGATE_ACTIVITY_CHECKPOINT_FILE
        if default and default not in files:
            files.insert(0, default)
        outside = []
        for path in files:
            try:
                outside += external.read_file(path)
            except FileNotFoundError:
                if path != default:
                    raise CommandError(f"No checkpoint file at {path}.") from None
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read checkpoints: {exc}") from None
        public_key = None
        if options["public_key"]:
            try:
                public_key = base64.b64decode(options["public_key"], validate=True)
            except (binascii.Error, ValueError):
                raise CommandError("--public-key must be base64.") from None
        stored = [c.as_json() for c in Checkpoint.objects.order_by("seq")]
        signed, count = verify_checkpoints(stored, outside, public_key)
        if not signed.ok:
            raise CommandError(
                f"Activity log verification FAILED at row #{signed.first_bad_seq}: {signed.problem}."
            )
        latest = f", the latest of row #{max(c['seq'] for c in stored + outside)}" if count else ""
        self.stdout.write(
            f"Activity log OK: {report.checked} rows, hash chain intact. "
            f"{count} signed checkpoints verified{latest}."
        )
