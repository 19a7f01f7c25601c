"""The shop's tables and supportkit's, in one migration (one database, one transaction)."""

from typing import Any

from django.db import migrations, models

from supportkit.storage.host import install_schema


def install_supportkit(apps: Any, schema_editor: Any) -> None:
    install_schema(schema_editor.connection)


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Stock",
            fields=[
                ("item", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("left", models.PositiveIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("email", models.EmailField(max_length=254)),
                ("item", models.CharField(max_length=100)),
                ("quantity", models.PositiveIntegerField()),
                ("ticket_number", models.BigIntegerField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="StaffNotification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("ticket_id", models.CharField(max_length=64)),
                ("event", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(install_supportkit, migrations.RunPython.noop),
    ]
