"""partner settlement priced per period: entries hold exact amounts in hundredths

Revision ID: 0007_partners
Revises: 0006
Create Date: 2026-12-03 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_partners'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Entries written so far keep the (floored) amount they were booked at, now exact in
    # hundredths of a minor unit; closed statements are frozen and stay as they were.
    with op.batch_alter_table('partner_settlement', schema=None) as batch_op:
        batch_op.alter_column(
            'amount_minor', new_column_name='amount_hundredths', existing_type=sa.BigInteger(),
            existing_nullable=False,
        )
    op.execute('UPDATE partner_settlement SET amount_hundredths = amount_hundredths * 100')


def downgrade() -> None:
    # Back to whole minor units per entry (rounded towards zero, as entries were booked).
    op.execute('UPDATE partner_settlement SET amount_hundredths = amount_hundredths / 100')
    with op.batch_alter_table('partner_settlement', schema=None) as batch_op:
        batch_op.alter_column(
            'amount_hundredths', new_column_name='amount_minor', existing_type=sa.BigInteger(),
            existing_nullable=False,
        )
