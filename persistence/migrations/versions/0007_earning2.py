"""points payments with their lots (refunds), voucher minimum order

Revision ID: 0007_earning2
Revises: 0006
Create Date: 2026-12-03 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import persistence.types

revision: str = '0007_earning2'
down_revision: str | None = '0007_partners'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('points_payment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('paid_at', persistence.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refunded_at', persistence.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('program_id', 'order_id')
    )
    with op.batch_alter_table('points_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_payment_member_id'), ['member_id'], unique=False)

    op.create_table('points_payment_take',
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('lot_id', sa.Uuid(), nullable=False),
    sa.Column('program_id', sa.Uuid(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', persistence.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['points_payment.id'], ),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], ),
    sa.PrimaryKeyConstraint('payment_id', 'lot_id')
    )
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_order_minor', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.drop_column('min_order_minor')

    op.drop_table('points_payment_take')
    with op.batch_alter_table('points_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_payment_member_id'))

    op.drop_table('points_payment')
