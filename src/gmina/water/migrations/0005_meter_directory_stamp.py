"""The meter directory stamp and the triggers that change it (see MeterDirectoryStamp).

Every change that can alter how a serial or a radio id resolves, or the zones a meter measures,
sets a new random stamp in the one row (created if a flush emptied the table): PostgreSQL once per
statement, SQLite (which has only row triggers) once per row.
"""

from django.db import migrations, models

TABLE = "water_meterdirectorystamp"
# table -> the columns the lookups read (resolve.py): an UPDATE of any other column leaves the stamp
WATCHED = {
    "water_meter": ("serial", "member_id", "zone_id", "service_point_id"),
    "water_servicepoint": ("member_id", "zone_id"),
    "water_zoneboundarymeter": ("member_id", "meter_id", "zone_id"),
    "water_deviceassignment": ("member_id", "meter_id", "device_key", "valid_from", "valid_to"),
}

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION gmina_touch_meter_directory() RETURNS trigger AS $$
BEGIN
    INSERT INTO {TABLE} (id, stamp) VALUES (1, floor(random() * 9e18)::bigint)
        ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_TOUCH = (
    f"INSERT INTO {TABLE} (id, stamp) VALUES (1, random()) ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;"
)


def _events(columns):
    return {"insert": "INSERT", "delete": "DELETE", "update": f"UPDATE OF {', '.join(columns)}"}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
    for table, columns in WATCHED.items():
        for name, event in _events(columns).items():
            trigger = f"{table}_directory_{name}"
            if vendor == "postgresql":
                schema_editor.execute(
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table}"
                    f" FOR EACH STATEMENT EXECUTE FUNCTION gmina_touch_meter_directory()",
                    params=None,
                )
            else:
                schema_editor.execute(
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN {SQLITE_TOUCH} END", params=None
                )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, columns in WATCHED.items():
        for name in _events(columns):
            on = f" ON {table}" if vendor == "postgresql" else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_directory_{name}{on}", params=None)
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS gmina_touch_meter_directory()", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("water", "0004_reading_keys_unconstrained"),
    ]

    operations = [
        migrations.CreateModel(
            name="MeterDirectoryStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stamp", models.BigIntegerField(verbose_name="stamp")),
            ],
            options={
                "verbose_name": "meter directory stamp",
                "verbose_name_plural": "meter directory stamps",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
