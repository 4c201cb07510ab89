from django.db import migrations, models


class Migration(migrations.Migration):
    """Batches: what sending a message needs besides its contact, in messaging's own
    table (campaigns.0009 fills them from the campaign runs and flows)."""

    dependencies = [
        ('messaging', '0007_replies_newest_first'),
    ]

    operations = [
        migrations.CreateModel(
            name='Batch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What the messages are sent for, as operators read it.', max_length=200)),
                ('templates', models.JSONField(blank=True, default=dict, help_text='The texts, by step: {"<step id>": {"body": …, "media_url": …, "label": …}}; {{VARIABLE}} placeholders are filled per contact.')),
                ('sender_name', models.CharField(blank=True, max_length=60)),
                ('reply_to', models.EmailField(blank=True, max_length=254)),
                ('active_from', models.TimeField(blank=True, null=True)),
                ('active_until', models.TimeField(blank=True, null=True)),
                ('timezone', models.CharField(blank=True, max_length=64)),
                ('hours_of', models.CharField(blank=True, help_text='Whose active hours these are, as a message held or failed by them says it ("the campaign\'s").', max_length=60)),
                ('tags', models.JSONField(blank=True, default=dict, help_text='What its writer says of it, passed on to providers that carry such data (webhook bodies): {"run": 12}.')),
                ('stopped_at', models.DateTimeField(blank=True, help_text='From then on none of its messages goes out: those still waiting are cancelled.', null=True)),
                ('stop_reason', models.CharField(blank=True, max_length=200)),
                ('pruned_counts', models.JSONField(blank=True, default=dict, editable=False, help_text='Its messages deleted after the retention period, by status; reports add them to the rows still kept.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name_plural': 'batches',
                'ordering': ['-id'],
            },
        ),
        # Nullable without a default: a change of the catalogue only, whatever the
        # size of the messages table.
        migrations.AddField(
            model_name='message',
            name='context',
            field=models.JSONField(blank=True, editable=False, help_text='Values its template reads besides the contact\'s (the properties of the event that started its flow).', null=True),
        ),
    ]
