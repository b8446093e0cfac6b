"""The activity log, as accounts' actions reach it.

The log lives in `registry`, and imports point registry -> accounts, never back; so the
registry installs its record() here when it starts (RegistryConfig.ready()), the way
workflows installs its rules into registry.policies.
"""

_record = None


def install(record):
    global _record
    _record = record


def record(ctx, **kwargs):
    if _record is None:
        raise RuntimeError("The activity log is not installed: is the registry app loaded?")
    return _record(ctx, **kwargs)
