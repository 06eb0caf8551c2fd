"""when a member's birthday was given (a birthday given shortly before it pays nothing)

Revision ID: 0010_birthday_set_at
Revises: 0009_actions
Create Date: 2026-12-03 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = '0010_birthday_set_at'
down_revision: str | None = '0009_actions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'birthday_set_at', persistence.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('birthday_set_at')
