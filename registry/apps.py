from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self):
        from accounts import audit

        from . import activity, lookups

        lookups.register()
        # accounts' actions (tokens) record through the registry's activity log.
        audit.install(activity.record)
        # Re-seed the activity chain head after a flush (see activity.seed_head).
        post_migrate.connect(activity.seed_head, sender=self)
