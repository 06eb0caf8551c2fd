"""what each purchase line earned, for refunds by line

Revision ID: 0007_earning
Revises: 0006
Create Date: 2026-12-03 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_earning'
down_revision: str | None = '0007_cost'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('earning', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('refunded_quantities', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_column('refunded_quantities')
        batch_op.drop_column('earning')
