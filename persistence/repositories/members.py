"""Members (and the empty wallet each one joins with) on SQLAlchemy Core."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Member, Wallet
from persistence.dialect import insert_ignoring_conflicts
from persistence.fastpath import Prepared
from persistence.rows import member_from_row, members_t, wallet_from_row, wallet_values, wallets_t

_MEMBER_WITH_WALLET = Prepared(
    select(members_t, *[c.label(f"wallet_{c.name}") for c in wallets_t.c])
    .join(wallets_t, wallets_t.c.member_id == members_t.c.id)
    .where(
        members_t.c.program_id == bindparam("program_id"),
        members_t.c.subject == bindparam("subject"),
    )
)
_MEMBER_BY_ID = select(members_t).where(
    members_t.c.program_id == bindparam("program_id"), members_t.c.id == bindparam("member_id")
)
_INSERT_WALLET = insert(wallets_t)  # built once: see persistence/repositories/ledger.py


class SqlMemberRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, program_id: uuid.UUID, *where: Any) -> Member | None:
        result = await self.conn.execute(
            select(members_t).where(members_t.c.program_id == program_id, *where)
        )
        row = result.first()
        return member_from_row(row) if row else None

    async def get(self, program_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        params = {"program_id": program_id, "member_id": member_id}
        row = (await self.conn.execute(_MEMBER_BY_ID, params)).first()
        return member_from_row(row) if row else None

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Member]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(members_t).where(
                members_t.c.program_id == program_id, members_t.c.id.in_(set(ids))
            )
        )
        return [member_from_row(row) for row in result]

    async def get_by_subject(self, program_id: uuid.UUID, subject: str) -> Member | None:
        return await self._one(program_id, members_t.c.subject == subject)

    async def get_with_wallet_by_subject(
        self, program_id: uuid.UUID, subject: str
    ) -> tuple[Member, Wallet] | None:
        """The member and their wallet in one statement."""
        rows = await _MEMBER_WITH_WALLET.rows(
            self.conn, {"program_id": program_id, "subject": subject}
        )
        row = rows[0] if rows else None
        if row is None:
            return None
        wallet = wallet_from_row(row, prefix="wallet_")
        return member_from_row(row), wallet

    async def get_by_referral_code(self, program_id: uuid.UUID, code: str) -> Member | None:
        return await self._one(program_id, members_t.c.referral_code == code)

    async def set_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime | None,
    ) -> None:
        await self.conn.execute(
            update(members_t)
            .where(members_t.c.program_id == program_id, members_t.c.id == member_id)
            .values(tier_id=tier_id, tier_valid_until=valid_until)
        )

    async def set_paid_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime,
        paid_until: datetime,
    ) -> None:
        await self.conn.execute(
            update(members_t)
            .where(members_t.c.program_id == program_id, members_t.c.id == member_id)
            .values(tier_id=tier_id, tier_valid_until=valid_until, paid_tier_until=paid_until)
        )

    async def set_blocked(self, program_id: uuid.UUID, member_id: uuid.UUID, blocked: bool) -> None:
        await self.conn.execute(
            update(members_t)
            .where(members_t.c.program_id == program_id, members_t.c.id == member_id)
            .values(blocked=blocked)
        )

    async def get_by_card_number(self, program_id: uuid.UUID, number: str) -> Member | None:
        return await self._one(program_id, members_t.c.card_number == number)

    async def get_by_phone(self, program_id: uuid.UUID, phone: str) -> Member | None:
        row = (
            await self.conn.execute(
                select(members_t)
                .where(members_t.c.program_id == program_id, members_t.c.phone == phone)
                .order_by(members_t.c.joined_at, members_t.c.id)
                .limit(1)
            )
        ).first()
        return member_from_row(row) if row is not None else None

    async def add(self, member: Member, wallet: Wallet) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, members_t).values(
            id=member.id,
            program_id=member.program_id,
            subject=member.subject,
            card_number=member.card_number,
            referral_code=member.referral_code,
            display_name=member.display_name,
            email=member.email,
            phone=member.phone,
            birthday=member.birthday,
            birthday_set_at=member.birthday_set_at,
            joined_at=member.joined_at,
            tier_id=member.tier_id,
            referred_by=member.referred_by,
            blocked=member.blocked,
            card_generation=member.card_generation,
            card_last_step=0,
        )
        result = await self.conn.execute(stmt.returning(members_t.c.id))
        if result.first() is None:
            return False
        await self.conn.execute(
            _INSERT_WALLET, {**wallet_values(wallet), "updated_at": member.joined_at}
        )
        return True

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        await self.conn.execute(
            update(members_t)
            .where(members_t.c.program_id == program_id, members_t.c.tier_id == from_tier_id)
            .values(tier_id=to_tier_id)
        )

    async def set_birthday_once(
        self, program_id: uuid.UUID, member_id: uuid.UUID, birthday: date, now: datetime
    ) -> bool:
        """Set the member's birthday (given `now`) if none is on record; False if one is."""
        result = await self.conn.execute(
            update(members_t)
            .where(
                members_t.c.program_id == program_id,
                members_t.c.id == member_id,
                members_t.c.birthday.is_(None),
            )
            .values(birthday=birthday, birthday_set_at=now)
        )
        return bool(result.rowcount == 1)
