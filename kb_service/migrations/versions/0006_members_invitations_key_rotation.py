"""members and invitations; keys belong to members, expire, and rotate with a grace period

Every organization gets an owner member (role admin) that its existing keys belong
to, so a key's effective role stays what it was. `api_keys.previous_key_hash` and
`previous_valid_until` keep a rotated key's old secret working for its grace period;
`expires_at` is set at creation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:30:00.000000
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _member_id() -> str:
    return "mem_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_owner", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_members_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_members_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_key_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("member_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_invitations_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invitations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitations_organization_id"), ["organization_id"], unique=False
        )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("previous_key_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_valid_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_member_id"), ["member_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_api_keys_previous_key_hash"), ["previous_key_hash"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_member_id_members"), "members", ["member_id"], ["id"]
        )
    connection = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for (org_id,) in connection.execute(sa.text("SELECT id FROM organizations")).all():
        member = _member_id()
        connection.execute(
            sa.text(
                "INSERT INTO members (id, organization_id, name, role, is_owner, created_at) "
                "VALUES (:id, :org, 'owner', 'admin', :yes, :now)"
            ),
            {"id": member, "org": org_id, "yes": True, "now": now},
        )
        connection.execute(
            sa.text("UPDATE api_keys SET member_id = :member WHERE organization_id = :org"),
            {"member": member, "org": org_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_keys_member_id_members"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_api_keys_previous_key_hash"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_api_keys_member_id"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("previous_valid_until")
        batch_op.drop_column("previous_key_hash")
        batch_op.drop_column("member_id")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_organization_id"))
    op.drop_table("invitations")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_organization_id"))
        batch_op.drop_index(batch_op.f("ix_members_created_at"))
    op.drop_table("members")
