"""Settings read the environment through one typed reader (config/env.py)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        (None, 60, 60),
        ("15", 60, 15),
        ("2.5", 1.0, 2.5),
        ("7", 1.0, 7.0),
        ("yes", False, True),
        ("OFF", True, False),
        (" 10.0.0.0/8, ,192.168.0.0/16 ", [], ["10.0.0.0/8", "192.168.0.0/16"]),
        ("", 60, 60),
        ("", [], []),
        ("", "text", ""),
        ("CAN_EDIT", "CAN_READ", "CAN_EDIT"),
    ],
)
def test_a_variable_is_read_as_the_type_of_its_default(monkeypatch, raw, default, expected):
    if raw is None:
        monkeypatch.delenv("MODELGATE_X", raising=False)
    else:
        monkeypatch.setenv("MODELGATE_X", raw)
    value = env("MODELGATE_X", default)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "default", "what"),
    [("sixty", 60, "an integer"), ("1.5", 60, "an integer"), ("fast", 1.0, "a number"), ("maybe", False, "a boolean")],
)
def test_a_value_that_does_not_parse_stops_start_up_naming_the_variable(monkeypatch, raw, default, what):
    monkeypatch.setenv("MODELGATE_X", raw)
    with pytest.raises(ImproperlyConfigured, match=f"MODELGATE_X must be {what}, got '{raw}'"):
        env("MODELGATE_X", default)


def test_importing_settings_creates_no_directories(tmp_path):
    import subprocess
    import sys

    var = tmp_path / "var"
    static = tmp_path / "static"
    code = "import django, os; django.setup(); from django.conf import settings; print(settings.VAR_DIR)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings",
             "MODELGATE_VAR_DIR": str(var), "STATIC_ROOT": str(static)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(var)
    assert not var.exists() and not static.exists()
