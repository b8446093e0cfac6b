from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from audit.activity import activity_recorded

        from . import outbox

        # Like the webhooks outbox: notices and emails are written in the recording transaction.
        activity_recorded.connect(outbox.on_activity_recorded, dispatch_uid="notifications-outbox")
