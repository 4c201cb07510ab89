from django.db import migrations


class Migration(migrations.Migration):
    """The counts of pruned messages live on their batch now (campaigns.0009 copied
    them)."""

    dependencies = [
        ('campaigns', '0009_runs_to_cohorts'),
        ('messaging', '0009_message_batch'),
    ]

    operations = [
        migrations.RemoveField(model_name='campaignrun', name='pruned_counts'),
    ]
