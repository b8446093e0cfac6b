"""The activity log's models now belong to the audit app (see audit 0001): state only, the
tables and their rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_version_storage_location"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Activity"),
                migrations.DeleteModel(name="ActivityHead"),
            ],
        ),
    ]
