"""signing keys: retirement window, revocation, private half destroyed

Revision ID: 4a54ccab24ec
Revises: 121493728cd2
Create Date: 2026-12-01 21:30:06.800373
"""
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op


revision: str = '4a54ccab24ec'
down_revision: str | None = '121493728cd2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Keys retired before this revision: they verify for the longest access-token lifetime any
# setting allows (ACCESS_TOKEN_MINUTES is at most 60), and lose their private half now.
LONGEST_TOKEN = timedelta(minutes=60)
signing_key = sa.table(
    'signing_key',
    sa.column('kid', sa.String),
    sa.column('private_key', sa.Text),
    sa.column('retired_at', sa.DateTime(timezone=True)),
    sa.column('verifies_until', sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verifies_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('private_key',
               existing_type=sa.TEXT(),
               nullable=True)

    connection = op.get_bind()
    retired = connection.execute(
        sa.select(signing_key.c.kid, signing_key.c.retired_at)
        .where(signing_key.c.retired_at.is_not(None))
    ).all()
    for kid, retired_at in retired:
        connection.execute(
            signing_key.update()
            .where(signing_key.c.kid == kid)
            .values(private_key=None, verifies_until=retired_at + LONGEST_TOKEN)
        )


def downgrade() -> None:
    # A destroyed private half stays destroyed: the old schema gets an empty string.
    op.execute(signing_key.update().where(signing_key.c.private_key.is_(None)).values(private_key=''))
    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.alter_column('private_key',
               existing_type=sa.TEXT(),
               nullable=False)
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('verifies_until')
