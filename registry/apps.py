from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self):
        from accounts import audit

        from . import activity, lookups

        lookups.register()
        # accounts' actions (tokens) record through the registry's activity log.
        audit.install(activity.record)
