"""The one way settings read the environment: `env(NAME, default)`, typed by the default.

A bool default reads 1/true/yes/on and 0/false/no/off; an int or float default reads a
number; a list default reads comma-separated items; a str default reads the text. An unset
(or, for non-strings, empty) variable gives the default. A value that does not parse stops
start-up with ImproperlyConfigured naming the variable, instead of failing later or being
quietly read as something else.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_bool(text):
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected one of " + ", ".join(sorted(_TRUE | _FALSE)))


def _parse_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def env(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return list(default) if isinstance(default, (list, tuple)) else default
    if isinstance(default, str):
        return raw
    if not raw.strip():
        return list(default) if isinstance(default, (list, tuple)) else default
    # bool before int: bool is a subclass of int.
    for kind, parse, what in (
        (bool, _parse_bool, "a boolean"),
        (int, int, "an integer"),
        (float, float, "a number"),
        ((list, tuple), _parse_list, "a comma-separated list"),
    ):
        if isinstance(default, kind):
            try:
                return parse(raw)
            except ValueError as exc:
                raise ImproperlyConfigured(f"{name} must be {what}, got {raw!r} ({exc}).") from None
    raise TypeError(f"env({name!r}): unsupported default type {type(default).__name__}")
