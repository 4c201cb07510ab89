import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Its own migration: the data migration that fills it (0009) must not run in the
    # transaction that adds the field's foreign key.
    dependencies = [
        ('campaigns', '0007_campaign_active_hours'),
        ('flows', '0008_cohort'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaignrun',
            name='cohort',
            field=models.OneToOneField(blank=True, editable=False, help_text="The journeys of the group on the flow, and through them the messages' batch; none for a skipped run.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='run', to='flows.cohort'),
        ),
    ]
