"""foundation units households members change log

Revision ID: 5de9d3727c57
Revises: 
Create Date: 2026-11-28 19:51:27.928841
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '5de9d3727c57'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('admin_unit',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('level', sa.Enum('province', 'district', 'commune', 'village', name='unitlevel', native_enum=False), nullable=False),
    sa.Column('unit_type', sa.Enum('tinh', 'thanh_pho_tw', 'huyen', 'thi_xa', 'thanh_pho', 'quan', 'xa', 'phuong', 'thi_tran', 'dac_khu', 'thon', 'to_dan_pho', name='unittype', native_enum=False), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('name_lower', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name_folded', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('parent_code', sa.String(length=16), nullable=True),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('urban', sa.Boolean(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['admin_unit.code'], name=op.f('fk_admin_unit_parent_code_admin_unit')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_admin_unit'))
    )
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_unit_name_folded'), ['name_folded'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_unit_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_unit_path'), ['path'], unique=False)

    op.create_table('change_log',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entity_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('operation', sa.Enum('create', 'update', 'delete', 'membership', name='operation', native_enum=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sa.Uuid(), nullable=False),
    sa.Column('diff', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_change_log'))
    )
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_log_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_log_transaction_id'), ['transaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_log_unit_path'), ['unit_path'], unique=False)

    head = op.create_table('change_log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log_head'))
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0}])
    op.create_table('idempotency_record',
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('actor', 'key', name=op.f('pk_idempotency_record'))
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_record_created_at'), ['created_at'], unique=False)

    op.create_table('admin_unit_parent',
    sa.Column('child_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['child_code'], ['admin_unit.code'], name=op.f('fk_admin_unit_parent_child_code_admin_unit')),
    sa.ForeignKeyConstraint(['parent_code'], ['admin_unit.code'], name=op.f('fk_admin_unit_parent_parent_code_admin_unit')),
    sa.PrimaryKeyConstraint('child_code', 'valid_from', name=op.f('pk_admin_unit_parent'))
    )
    with op.batch_alter_table('admin_unit_parent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_unit_parent_parent_code'), ['parent_code'], unique=False)

    op.create_table('admin_unit_succession',
    sa.Column('predecessor_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('successor_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('merge', 'split', 'rename', 'upgrade', name='successionkind', native_enum=False), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_code'], ['admin_unit.code'], name=op.f('fk_admin_unit_succession_predecessor_code_admin_unit')),
    sa.ForeignKeyConstraint(['successor_code'], ['admin_unit.code'], name=op.f('fk_admin_unit_succession_successor_code_admin_unit')),
    sa.PrimaryKeyConstraint('predecessor_code', 'successor_code', name=op.f('pk_admin_unit_succession'))
    )
    op.create_table('household',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('floor_area_m2', sa.Float(), nullable=True),
    sa.Column('wall_material', sa.Enum('durable', 'non_durable', name='durability', native_enum=False), nullable=True),
    sa.Column('column_material', sa.Enum('durable', 'non_durable', name='durability', native_enum=False), nullable=True),
    sa.Column('roof_material', sa.Enum('durable', 'non_durable', name='durability', native_enum=False), nullable=True),
    sa.Column('water_source', sa.Enum('piped', 'drilled_well', 'protected_dug_well', 'protected_spring', 'rainwater', 'bottled', 'unprotected_well', 'unprotected_spring', 'surface_water', 'other', name='watersource', native_enum=False), nullable=True),
    sa.Column('latrine_type', sa.Enum('flush_septic', 'flush_sewer', 'double_vault', 'ventilated_pit', 'biogas', 'unhygienic', 'none', name='latrinetype', native_enum=False), nullable=True),
    sa.Column('uses_telecom', sa.Boolean(), nullable=True),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('information_assets', sa.JSON(), nullable=False),
    sa.Column('poverty_status', sa.Enum('poor', 'near_poor', 'average', 'not_poor', name='povertystatus', native_enum=False), nullable=True),
    sa.Column('head_member_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['village_code'], ['admin_unit.code'], name=op.f('fk_household_village_code_admin_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_keyset', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_poverty_status'), ['poverty_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_unit_path'), ['unit_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_village_code'), ['village_code'], unique=False)

    op.create_table('member',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ethnicity', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('attending_school', sa.Boolean(), nullable=True),
    sa.Column('education_level', sa.Enum('none', 'primary', 'lower_secondary', 'upper_secondary', 'vocational', 'college_or_higher', name='educationlevel', native_enum=False), nullable=True),
    sa.Column('employment', sa.Enum('wage_with_contract', 'wage_without_contract', 'self_employed', 'unemployed', 'not_in_labour_force', name='employment', native_enum=False), nullable=True),
    sa.Column('health_insurance', sa.Boolean(), nullable=True),
    sa.Column('disability', sa.Enum('none', 'mild', 'severe', 'very_severe', name='disability', native_enum=False), nullable=True),
    sa.Column('labour_capacity', sa.Boolean(), nullable=True),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('sex', sa.Enum('male', 'female', name='sex', native_enum=False), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('personal_id', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('relation_to_head', sa.Enum('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'child_in_law', 'other_relative', 'non_relative', name='relation', native_enum=False), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('unit_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_lower', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('name_folded', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('membership_status', sa.Enum('active', 'left', 'deceased', name='membershipstatus', native_enum=False), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_member_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_member_keyset', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_name_folded'), ['name_folded'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_name_lower'), ['name_lower'], unique=False)
        batch_op.create_index('ix_member_personal_id', ['personal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_unit_path'), ['unit_path'], unique=False)
        batch_op.create_index('uq_member_active_personal_id', ['personal_id'], unique=True, sqlite_where=sa.text("personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"), postgresql_where=sa.text("personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"))

    op.create_table('membership_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('joined', 'left', 'died', 'became_head', 'ceased_head', name='membershipeventkind', native_enum=False), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_membership_event_household_id_household')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_membership_event_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_event'))
    )
    with op.batch_alter_table('membership_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_event_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_event_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('membership_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_event_member_id'))
        batch_op.drop_index(batch_op.f('ix_membership_event_household_id'))

    op.drop_table('membership_event')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('uq_member_active_personal_id', sqlite_where=sa.text("personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"), postgresql_where=sa.text("personal_id IS NOT NULL AND deleted_at IS NULL AND membership_status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_member_unit_path'))
        batch_op.drop_index('ix_member_personal_id')
        batch_op.drop_index(batch_op.f('ix_member_name_lower'))
        batch_op.drop_index(batch_op.f('ix_member_name_folded'))
        batch_op.drop_index('ix_member_keyset')
        batch_op.drop_index(batch_op.f('ix_member_household_id'))

    op.drop_table('member')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_village_code'))
        batch_op.drop_index(batch_op.f('ix_household_unit_path'))
        batch_op.drop_index(batch_op.f('ix_household_poverty_status'))
        batch_op.drop_index('ix_household_keyset')

    op.drop_table('household')
    op.drop_table('admin_unit_succession')
    with op.batch_alter_table('admin_unit_parent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_unit_parent_parent_code'))

    op.drop_table('admin_unit_parent')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_record_created_at'))

    op.drop_table('idempotency_record')
    op.drop_table('change_log_head')
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_log_unit_path'))
        batch_op.drop_index(batch_op.f('ix_change_log_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_change_log_entity_id'))

    op.drop_table('change_log')
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_unit_path'))
        batch_op.drop_index(batch_op.f('ix_admin_unit_parent_code'))
        batch_op.drop_index(batch_op.f('ix_admin_unit_name_folded'))

    op.drop_table('admin_unit')
