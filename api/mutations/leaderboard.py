"""The monthly leaderboard: members opt in and read it, admins set it up."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, MemberOnly, MemberOrAdmin
from api.types.leaderboard import Leaderboard, LeaderboardSettings
from domain import leaderboard as rules
from domain.ports import UnitOfWork
from domain.services import leaderboard


@strawberry.input(description="Whether the calling member shows on the monthly leaderboard.")
class SetLeaderboardOptInInput:
    opt_in: bool = strawberry.field(
        description="True shows the member on the leaderboard by display name only (never "
        "their id, email or card number); false takes them off it. Members start off it."
    )


@strawberry.type(description="Result of `setLeaderboardOptIn`.")
class SetLeaderboardOptInPayload:
    opted_in: bool | None = strawberry.field(
        description="Whether the member now shows on the leaderboard; null on error."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Leaderboard settings to change; omitted fields stay as they are.")
class UpdateLeaderboardInput:
    enabled: bool | None = strawberry.field(
        default=None,
        description="True shows the leaderboard and pays each month's bonus from the month "
        "it is switched on in; false hides it and pays nothing; left out: unchanged.",
    )
    top_n: int | None = strawberry.field(
        default=None,
        description=f"How many ranks the monthly bonus pays, 1 to {rules.MAX_TOP_N}; "
        "left out: unchanged (3 at first).",
    )
    bonus_points: list[int] | None = strawberry.field(
        default=None,
        description=f"Bonus points by rank, 1 to {rules.MAX_TOP_N} values of 1 to "
        f"{rules.MAX_BONUS_POINTS:,} each: the first for rank 1, the last also for the "
        "ranks beyond the list; left out: unchanged (500, 300, 100 at first).",
    )


@strawberry.type(description="Result of `updateLeaderboard`.")
class UpdateLeaderboardPayload:
    leaderboard: LeaderboardSettings | None = strawberry.field(
        description="The settings after the change; null on error."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The monthly leaderboard.")
class LeaderboardMutations:
    @strawberry.mutation(
        description="Member: show yourself on the monthly leaderboard, or stop. Safe to "
        "retry: the answer is the state asked for.",
        permission_classes=[MemberOnly],
    )
    async def set_leaderboard_opt_in(
        self,
        info: Info,
        input: Annotated[
            SetLeaderboardOptInInput,
            strawberry.argument(description="Whether to show on the leaderboard."),
        ],
    ) -> SetLeaderboardOptInPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> bool:
            return await leaderboard.set_opt_in(
                uow, context.runtime.clock, context.caller(), input.opt_in
            )

        opted_in, errors = await attempt(context, use_case)
        return SetLeaderboardOptInPayload(opted_in=opted_in, errors=errors)

    @strawberry.mutation(
        description="Admins: switch the monthly leaderboard on or off and set the bonus the "
        "job pays its top members; readable as `program { leaderboard }`.",
        permission_classes=[AdminOnly],
    )
    async def update_leaderboard(
        self,
        info: Info,
        input: Annotated[
            UpdateLeaderboardInput,
            strawberry.argument(description="The settings to change."),
        ],
    ) -> UpdateLeaderboardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> rules.LeaderboardSettings:
            return await leaderboard.update_settings(
                uow,
                context.runtime.clock,
                context.caller(),
                enabled=input.enabled,
                top_n=input.top_n,
                bonus_points=input.bonus_points,
            )

        settings, errors = await attempt(context, use_case)
        return UpdateLeaderboardPayload(
            leaderboard=LeaderboardSettings.from_domain(settings) if settings else None,
            errors=errors,
        )


@strawberry.type(description="The monthly leaderboard.")
class LeaderboardQueries:
    @strawberry.field(
        description="Members and admins: a month's leaderboard of points earned by the "
        "members who opted in, best first, with the calling member's own rank. One read of "
        "the ledger however long the list.",
        permission_classes=[MemberOrAdmin],
    )
    async def leaderboard(
        self,
        info: Info,
        month: Annotated[
            str | None,
            strawberry.argument(
                description="The month as YYYY-MM, e.g. 2026-12, in the program's time zone;"
                " left out: the current month."
            ),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"How many entries, 1 to {rules.MAX_BOARD_SIZE}; left out: "
                f"{rules.DEFAULT_BOARD_SIZE}."
            ),
        ] = None,
    ) -> Leaderboard:
        principal = info.context.caller()
        program = await info.context.program()
        now = info.context.runtime.clock.now()
        async with info.context.reader() as uow:
            board = await leaderboard.read_board(uow, principal, program, now, month, first)
        return Leaderboard.from_domain(board)
