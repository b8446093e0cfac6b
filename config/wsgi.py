import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

# Imported once Django is set up. Alias lookups and get-version are answered in front of
# Django while their cached answer is current (registry/api/hot.py).
from ops.middleware import observe  # noqa: E402
from registry.api.hot import HotPath  # noqa: E402

application = HotPath(django_application, observe)

# What is loaded by now (settings, apps, URL conf, views) lives as long as the process. Frozen,
# the garbage collector never walks it again: a full collection over it took ~90 ms on this
# machine and fell, every few requests, in the middle of one (a search's p99 doubled).
get_resolver().url_patterns  # noqa: B018 (imports every view now, before the freeze)
gc.freeze()
