"""Times on the wire: every API here (MLflow, Databricks, Modelgate) spells a moment as
integer milliseconds since the epoch."""


def to_millis(dt):
    return int(dt.timestamp() * 1000) if dt else None
