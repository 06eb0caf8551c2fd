"""challenges and badges

Revision ID: 0009_challenges
Revises: 0009_referrals
Create Date: 2026-12-03 19:09:19.459879
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types

revision: str = '0009_challenges'
down_revision: str | None = '0009_referrals'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('badge',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('image_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('badge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_program_id'), ['program_id'], unique=False)

    op.create_table('challenge',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('goal_kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('action_kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('starts_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', persistence.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('tier_ids', sa.JSON(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('reward_points', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Uuid(), nullable=True),
    sa.Column('badge_id', sa.Uuid(), nullable=True),
    sa.Column('archived_at', persistence.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badge.id'], ),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_program_starts', ['program_id', 'starts_at', 'id'], unique=False)

    op.create_table('challenge_progress',
    sa.Column('challenge_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('progress', sa.BigInteger(), nullable=False),
    sa.Column('started_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', persistence.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.PrimaryKeyConstraint('challenge_id', 'member_id', 'period_key')
    )
    with op.batch_alter_table('challenge_progress', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_progress_member', ['program_id', 'member_id'], unique=False)

    op.create_table('member_badge',
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('badge_id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('challenge_id', sa.Uuid(), nullable=True),
    sa.Column('awarded_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badge.id'], ),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.PrimaryKeyConstraint('member_id', 'badge_id')
    )
    with op.batch_alter_table('member_badge', schema=None) as batch_op:
        batch_op.create_index('ix_member_badge_program', ['program_id', 'member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('member_badge', schema=None) as batch_op:
        batch_op.drop_index('ix_member_badge_program')

    op.drop_table('member_badge')
    with op.batch_alter_table('challenge_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_progress_member')

    op.drop_table('challenge_progress')
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_program_starts')

    op.drop_table('challenge')
    with op.batch_alter_table('badge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_program_id'))

    op.drop_table('badge')