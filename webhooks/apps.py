from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from audit.activity import activity_recorded

        from . import outbox

        # The one hook from the activity log into the outbox (never post_save).
        activity_recorded.connect(outbox.on_activity_recorded, dispatch_uid="webhooks-outbox")
