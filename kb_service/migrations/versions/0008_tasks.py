"""tasks and their runs

`tasks` are saved prompts over a scope, with the next slot of their schedule
(`next_run_at`: a cron expression in a time zone, or an interval from
`schedule_anchor`); `task_runs` are their runs (claimed under leases, unique per
schedule slot), holding each answer with its citations. Runs go with their task
(ON DELETE CASCADE). New tables only: nothing existing changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=False),
        sa.Column("answerer", sa.String(length=16), nullable=True),
        sa.Column("cron", sa.String(length=200), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("schedule_anchor", sa.DateTime(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tasks_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks") as batch:
        batch.create_index("ix_tasks_due", ["next_run_at"], unique=False)
        batch.create_index(
            "ix_tasks_org_created", ["organization_id", "created_at", "id"], unique=False
        )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(), nullable=True),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answerer", sa.String(length=16), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_runs_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
        sa.UniqueConstraint("task_id", "scheduled_for", name=op.f("uq_task_runs_task_id")),
    )
    with op.batch_alter_table("task_runs") as batch:
        batch.create_index("ix_task_runs_claim", ["status", "created_at"], unique=False)
        batch.create_index(
            "ix_task_runs_task_created", ["task_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("task_runs")
    op.drop_table("tasks")
