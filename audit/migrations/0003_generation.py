"""Generations of the registry and of each model, bumped by record() (audit.models.Generation)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_checkpoint")]

    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("scope", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
    ]
