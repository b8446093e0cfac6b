"""Small pieces every page shows the same way: times, stages, people."""

from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

register = template.Library()

STAGE_CLASSES = {"None": "stage-none", "Staging": "stage-staging", "Production": "stage-production",
                 "Archived": "stage-archived"}


@register.simple_tag
def when(moment):
    """'3 minutes ago · 1 Dec 2026 20:31 UTC': relative for reading, absolute for the record."""
    if not moment:
        return ""
    absolute = moment.astimezone(dt_timezone.utc).strftime("%-d %b %Y %H:%M UTC")
    relative = "just now" if (timezone.now() - moment).total_seconds() < 60 else f"{timesince(moment).split(',')[0]} ago"
    return format_html(
        '<time datetime="{}" title="{}">{}</time> <span class="absolute">· {}</span>',
        moment.isoformat(), absolute, relative, absolute,
    )


@register.simple_tag
def stage_badge(stage):
    return format_html('<span class="badge {}">{}</span>', STAGE_CLASSES.get(stage, "stage-custom"), stage)


@register.filter
def username(user):
    return getattr(user, "username", None) or "—"


@register.filter
def web_address(url):
    """`url` when it is an http(s) address, else "": what a page may put in an href that came
    from a client (a javascript: URL would run in the reader's session)."""
    url = (url or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # not a URL urlsplit can read (a broken IPv6 host)
        return ""
    return url if scheme in ("http", "https") else ""
