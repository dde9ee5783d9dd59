"""poverty review: campaigns, assessments, status history

Revision ID: 863b2c72aeb5
Revises: 415dd7d7d191
Create Date: 2026-11-29 03:05:31.592265
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '863b2c72aeb5'
down_revision: str | None = '415dd7d7d191'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_campaign',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('commune_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sa.Enum('periodic', 'regular', name='campaignkind', native_enum=False), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('standard_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('state', sa.Enum('open', 'closed', name='campaignstate', native_enum=False), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.ForeignKeyConstraint(['commune_code'], ['admin_unit.code'], name=op.f('fk_review_campaign_commune_code_admin_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_campaign'))
    )
    with op.batch_alter_table('review_campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_campaign_commune_code'), ['commune_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_campaign_unit_path'), ['unit_path'], unique=False)

    op.create_table('assessment',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('standard_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=False),
    sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'returned', 'agreed', 'posted', 'district_reviewed', 'recognised', 'certified', 'refused', name='state', native_enum=False), nullable=False),
    sa.Column('surveyed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('surveyed_on', sa.Date(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('poor', 'near_poor', 'average', 'not_poor', name='povertystatus', native_enum=False), nullable=True),
    sa.Column('deprivation_count', sa.Integer(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('explanation', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('meeting', sa.JSON(), nullable=True),
    sa.Column('posted_on', sa.Date(), nullable=True),
    sa.Column('complaints', sa.JSON(), nullable=False),
    sa.Column('district_opinion', sa.JSON(), nullable=True),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('certificate', sa.JSON(), nullable=True),
    sa.Column('transitions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['review_campaign.id'], name=op.f('fk_assessment_campaign_id_review_campaign')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_assessment_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment')),
    sa.UniqueConstraint('campaign_id', 'household_id', name='uq_assessment_campaign_household')
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_assessment_keyset', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_unit_path'), ['unit_path'], unique=False)

    op.create_table('household_status',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sa.Enum('poor', 'near_poor', 'average', 'not_poor', name='povertystatus', native_enum=False), nullable=False),
    sa.Column('previous_status', sa.Enum('poor', 'near_poor', 'average', 'not_poor', name='povertystatus', native_enum=False), nullable=True),
    sa.Column('movement', sa.Enum('new_poor', 're_poor', 'near_poor_to_poor', 'poor_to_near_poor', 'new_near_poor', 'escaped_poor', 'escaped_near_poor', 'unchanged', 'other', name='movement', native_enum=False), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('assessment_id', sa.Uuid(), nullable=True),
    sa.Column('standard_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('decision_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('causes', sa.JSON(), nullable=False),
    sa.Column('deprived', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_household_status_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_status_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_status'))
    )
    with op.batch_alter_table('household_status', schema=None) as batch_op:
        batch_op.create_index('ix_household_status_report', ['status', 'effective_from', 'effective_to'], unique=False)
        batch_op.create_index('ix_household_status_span', ['household_id', 'effective_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_status_unit_path'), ['unit_path'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('household_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_status_unit_path'))
        batch_op.drop_index('ix_household_status_span')
        batch_op.drop_index('ix_household_status_report')

    op.drop_table('household_status')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_unit_path'))
        batch_op.drop_index(batch_op.f('ix_assessment_state'))
        batch_op.drop_index('ix_assessment_keyset')
        batch_op.drop_index(batch_op.f('ix_assessment_household_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_campaign_id'))

    op.drop_table('assessment')
    with op.batch_alter_table('review_campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_campaign_unit_path'))
        batch_op.drop_index(batch_op.f('ix_review_campaign_commune_code'))

    op.drop_table('review_campaign')
