"""offline sync: pushed items and sync sessions

Revision ID: 121493728cd2
Revises: 863b2c72aeb5
Create Date: 2026-11-29 03:28:48.611955
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '121493728cd2'
down_revision: str | None = '863b2c72aeb5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sync_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('op_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('op', sa.Enum('create', 'update', 'delete', name='op', native_enum=False), nullable=False),
    sa.Column('entity', sa.Enum('household', 'member', 'assessment', name='entity', native_enum=False), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('applied', 'merged', 'conflict', 'rejected', 'duplicate', 'not_applied', name='outcome', native_enum=False), nullable=False),
    sa.Column('state', sa.Enum('done', 'open', 'resolved', name='itemstate', native_enum=False), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('resolution', sa.JSON(), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_item')),
    sa.UniqueConstraint('actor', 'op_id', name='uq_sync_item_actor_op')
    )
    with op.batch_alter_table('sync_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_item_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index('ix_sync_item_open', ['state', 'unit_path'], unique=False)

    op.create_table('sync_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('app_version', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cursor_in', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('cursor_out', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('bytes_in', sa.Integer(), nullable=False),
    sa.Column('bytes_out', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_session'))
    )
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_session_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_session_device_id'), ['device_id'], unique=False)
        batch_op.create_index('ix_sync_session_keyset', ['started_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_session_unit_path'), ['unit_path'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sync_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_session_unit_path'))
        batch_op.drop_index('ix_sync_session_keyset')
        batch_op.drop_index(batch_op.f('ix_sync_session_device_id'))
        batch_op.drop_index(batch_op.f('ix_sync_session_actor'))

    op.drop_table('sync_session')
    with op.batch_alter_table('sync_item', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_item_open')
        batch_op.drop_index(batch_op.f('ix_sync_item_entity_id'))

    op.drop_table('sync_item')
