from django.db import migrations, models


def vouch_for_admins_untouched_webhooks(apps, schema_editor):
    """Existing webhooks keep reaching internal networks only where a registry admin is known
    to have set the destination: created by a superuser and its URL never changed since (by
    the activity log). Any other webhook that needs an internal network must have its URL given
    again by a registry admin."""
    Webhook = apps.get_model("webhooks", "Webhook")
    Activity = apps.get_model("audit", "Activity")
    for webhook in Webhook.objects.filter(created_by__is_superuser=True, created_by__is_active=True):
        updates = Activity.objects.filter(event="webhook.updated", target=webhook.pk)
        if any((row.before or {}).get("url") != (row.after or {}).get("url") for row in updates):
            continue
        Webhook.objects.filter(pk=webhook.pk).update(destination_set_by_admin=True)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("webhooks", "0002_retire_webhooks_with_their_model"),
    ]

    operations = [
        migrations.AddField(
            model_name="attempt",
            name="internal_destination",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="webhook",
            name="destination_set_by_admin",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(vouch_for_admins_untouched_webhooks, migrations.RunPython.noop),
    ]
