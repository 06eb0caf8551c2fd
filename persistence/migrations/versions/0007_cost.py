"""query cost budgets shared by server processes

Revision ID: 0007_cost
Revises: 0006
Create Date: 2026-12-03 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_cost'
down_revision: str | None = '0007_earning2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UNLOGGED: a charge then commits without waiting for a WAL flush (4.9 ms -> 2.5 ms a
    # charge on the development machine); after a crash the table is empty, which means
    # every bucket is full: harmless. Only PostgreSQL uses the table.
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'cost_bucket',
        sa.Column('caller', sa.Text(), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('charged', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('caller'),
        prefixes=['UNLOGGED'] if postgresql else [],
    )


def downgrade() -> None:
    op.drop_table('cost_bucket')
