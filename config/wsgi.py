import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

# Imported once Django is set up. Alias lookups and get-version are answered in front of
# Django while their cached answer is current (registry/api/hot.py).
from ops.middleware import observe  # noqa: E402
from registry.api.hot import HotPath  # noqa: E402

application = HotPath(django_application, observe)
