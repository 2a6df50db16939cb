"""Indexes for the list of cases, on the engine's tables (kept here, with the queries that need them).

Each order of the list reads one index forwards or backwards, and the filters that narrow it most (status,
process, a date range) lead their own; the person and unit searches collect case ids from covering indexes
of the tasks. On PostgreSQL a trigram index answers a search by a part of a case number.
"""

from django.db import migrations

# (name, table, columns): plain SQL that SQLite and PostgreSQL both read.
INDEXES = [
    ("case_list_started", "workflow_processinstance", "started_at, id"),
    ("case_list_updated", "workflow_processinstance", "updated_at, id"),
    ("case_list_status", "workflow_processinstance", "status, started_at DESC, id DESC"),
    ("case_list_process", "workflow_processinstance", "process_key, started_at DESC, id DESC"),
    ("case_list_requester", "workflow_processinstance", "started_by_id, id"),
    ("case_list_task_completed_by", "workflow_humantask", "completed_by_id, instance_id"),
    ("case_list_task_assignee", "workflow_humantask", "assignee_id, instance_id"),
    ("case_list_task_unit", "workflow_humantask", "org_unit_id, instance_id"),
]


def number_trigrams(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX case_list_number_trgm ON workflow_processinstance USING gin (number gin_trgm_ops)"
        )


def drop_number_trigrams(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_list_number_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_case_access_log"),
        ("workflow", "0005_case_stage"),
    ]

    operations = [
        *(
            migrations.RunSQL(f"CREATE INDEX {name} ON {table} ({columns})", f"DROP INDEX IF EXISTS {name}")
            for name, table, columns in INDEXES
        ),
        migrations.RunPython(number_trigrams, drop_number_trigrams),
    ]
