import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Cohorts: journeys started together, with the messaging batch of their
    messages (campaigns.0009 fills them from the campaign runs and flows)."""

    dependencies = [
        ('flows', '0007_step_body_fallback_help'),
        ('messaging', '0008_batch'),
    ]

    operations = [
        migrations.CreateModel(
            name='Cohort',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('for_entries', models.BooleanField(default=False, help_text="The version's cohort for contacts put on it by events or its audience schedule, each at most once per entry key.")),
                ('held', models.BooleanField(default=False, help_text='Its journeys wait where they are (a suspended campaign) until it is released.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('batch', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='cohort', to='messaging.batch')),
                ('flow_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cohorts', to='flows.flowversion')),
            ],
            options={
                'ordering': ['-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('for_entries', True)), fields=('flow_version',), name='cohort_one_for_entries')],
            },
        ),
    ]
