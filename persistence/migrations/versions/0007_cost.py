"""query cost budgets shared by server processes

Revision ID: 0007_cost
Revises: 0006
Create Date: 2026-12-03 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_cost'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'cost_bucket',
        sa.Column('caller', sa.Text(), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('charged', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('caller'),
    )


def downgrade() -> None:
    op.drop_table('cost_bucket')
