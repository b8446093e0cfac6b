from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import schema  # noqa: F401  registers the OpenAPI auth schemes


class ModelgateAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on Modelgate's site (accounts.sites): installed in place of
    "django.contrib.admin"."""

    default = False  # not the accounts app's config: AccountsConfig is
    default_site = "accounts.sites.AdminSite"
