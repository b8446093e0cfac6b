from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from . import policies

        policies.allowed_networks()  # a malformed network stops start-up, naming the setting
