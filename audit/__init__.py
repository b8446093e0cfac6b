"""The bottom layer: who acts (Ctx), the domain errors, the event vocabulary and the
append-only activity log that every change ends in. It imports no other project app."""
