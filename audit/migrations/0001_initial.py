"""The audit app takes over the activity log's tables from the registry, data and all.

The tables, their indexes, the seeded head row and the append-only trigger on PostgreSQL
were made by registry 0001 and 0002; this migration only moves the models in Django's state
(the tables keep their names), and moves their content types so any permission on them
follows. registry 0005 removes them from the registry's state.
"""

from django.db import migrations, models


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="registry", model__in=["activity", "activityhead"]).update(
        app_label="audit"
    )


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="audit", model__in=["activity", "activityhead"]).update(
        app_label="registry"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("registry", "0004_version_storage_location"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ActivityHead",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ("seq", models.BigIntegerField(default=0)),
                        ("hash", models.CharField(default="0" * 64, max_length=64)),
                    ],
                    options={"db_table": "registry_activityhead"},
                ),
                migrations.CreateModel(
                    name="Activity",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("seq", models.BigIntegerField(unique=True)),
                        ("created_at", models.DateTimeField()),
                        ("actor_id", models.BigIntegerField(blank=True, null=True)),
                        ("actor", models.CharField(max_length=150)),
                        ("via", models.CharField(max_length=16)),
                        ("event", models.CharField(db_index=True, max_length=64)),
                        ("model_uid", models.CharField(blank=True, default="", max_length=32)),
                        ("model_name", models.CharField(blank=True, default="", max_length=256)),
                        ("version", models.PositiveIntegerField(blank=True, null=True)),
                        ("target", models.CharField(blank=True, default="", max_length=256)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        ("comment", models.TextField(blank=True, default="")),
                        ("request_id", models.CharField(blank=True, default="", max_length=64)),
                        ("client_ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("token_id", models.BigIntegerField(blank=True, null=True)),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("hash", models.CharField(max_length=64, unique=True)),
                    ],
                    options={
                        "verbose_name_plural": "activities",
                        "ordering": ["seq"],
                        "db_table": "registry_activity",
                        "indexes": [
                            models.Index(fields=["model_uid", "seq"], name="registry_ac_model_u_18a631_idx"),
                            models.Index(fields=["model_name", "version", "seq"], name="registry_ac_model_n_f3238f_idx"),
                            models.Index(fields=["created_at"], name="registry_ac_created_a8d771_idx"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
