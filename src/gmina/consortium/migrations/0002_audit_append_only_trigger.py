"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit log.

SQLite has no equivalent that leaves the test runner's table flush working; there the
application refuses (AuditEntry and its querysets have no update/delete path).
"""

from django.db import migrations

TABLE = "consortium_auditentry"

CREATE = f"""
CREATE OR REPLACE FUNCTION gmina_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on {TABLE} refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION gmina_refuse_audit_change();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};
DROP FUNCTION IF EXISTS gmina_refuse_audit_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consortium", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
