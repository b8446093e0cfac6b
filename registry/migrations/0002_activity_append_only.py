"""Seed the activity chain head, and on PostgreSQL make the activity table append-only.

UPDATE and DELETE are refused row by row. TRUNCATE is left to database privileges (the app's
role should not own the table in production); the test runner needs it to reset tables.
"""

from django.db import migrations

FORBID_SQL = """
CREATE OR REPLACE FUNCTION registry_activity_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'registry_activity is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER registry_activity_no_update_delete
    BEFORE UPDATE OR DELETE ON registry_activity
    FOR EACH ROW EXECUTE FUNCTION registry_activity_append_only();
"""

ALLOW_SQL = """
DROP TRIGGER IF EXISTS registry_activity_no_update_delete ON registry_activity;
DROP FUNCTION IF EXISTS registry_activity_append_only();
"""


def seed_head(apps, schema_editor):
    apps.get_model("registry", "ActivityHead").objects.get_or_create(pk=1)


def forbid_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID_SQL, params=None)


def allow_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.RunPython(seed_head, migrations.RunPython.noop),
        migrations.RunPython(forbid_changes, allow_changes),
    ]
