from django.core.management.base import BaseCommand

from audit.actions import checkpoint_create
from audit.ctx import Ctx


class Command(BaseCommand):
    help = ("Sign the activity log's head with the checkpoint key (MODELGATE_ACTIVITY_SIGNING_KEY) "
            "and write the checkpoint outside the database too. The beat task does this every "
            "MODELGATE_ACTIVITY_CHECKPOINT_SECONDS.")

    def handle(self, *args, **options):
        checkpoint = checkpoint_create(Ctx.cli())
        if checkpoint is None:
            self.stdout.write("Nothing new since the last checkpoint (or the log is empty): none written.")
            return
        self.stdout.write(f"Checkpoint of row #{checkpoint.seq} signed with key {checkpoint.key_id}.")
