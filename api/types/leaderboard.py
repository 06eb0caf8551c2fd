"""The monthly leaderboard as the app shows it, and its settings."""

from __future__ import annotations

import strawberry

from api.context import Info
from domain import leaderboard
from domain.services.leaderboard import Board

MAX_INT = 2**31 - 1


@strawberry.type(description="The program's monthly leaderboard and the bonus it pays.")
class LeaderboardSettings:
    enabled: bool = strawberry.field(
        description="True when members can see the leaderboard and each month's top members "
        "are paid a bonus by `loyalty jobs` (in the program's time zone)."
    )
    top_n: int = strawberry.field(
        description="How many ranks the monthly bonus pays; members tied on a paid rank are "
        "all paid."
    )
    bonus_points: list[int] = strawberry.field(
        description="Bonus points by rank: the first value for rank 1, the second for rank 2; "
        "the last value for the ranks beyond the list."
    )

    @classmethod
    def from_domain(cls, settings: leaderboard.LeaderboardSettings) -> LeaderboardSettings:
        return cls(
            enabled=settings.enabled,
            top_n=settings.top_n,
            bonus_points=list(settings.bonus_points),
        )


@strawberry.type(description="One member's place on the leaderboard; never more than a name.")
class LeaderboardEntry:
    rank: int = strawberry.field(
        description="Place by points, 1 first; members with equal points share a rank (and "
        "the next rank is skipped: 1, 2, 2, 4)."
    )
    display_name: str | None = strawberry.field(
        description="The member's display name; null when they gave none (show e.g. "
        "'A member'). Ids, emails and card numbers are never shown here."
    )
    points: int = strawberry.field(
        description="Points earned in the month: credits from purchases, bonuses and "
        "actions, less refunds; spending, expiry and adjustments do not count."
    )
    is_me: bool = strawberry.field(description="True on the calling member's own entry.")


def _entry(standing: leaderboard.Standing, board: Board) -> LeaderboardEntry:
    return LeaderboardEntry(
        rank=standing.rank,
        display_name=standing.display_name,
        points=min(standing.points, MAX_INT),
        is_me=board.member_id is not None and standing.member_id == board.member_id,
    )


@strawberry.type(description="A month's leaderboard of the members who opted in.")
class Leaderboard:
    month: str = strawberry.field(
        description="The month shown, as YYYY-MM, in the program's time zone."
    )
    enabled: bool = strawberry.field(
        description="False when the program has no leaderboard: `entries` is then empty."
    )
    opted_in: bool = strawberry.field(
        description="Whether the calling member shows on the leaderboard "
        "(`setLeaderboardOptIn`); false for admins."
    )
    entries: list[LeaderboardEntry] = strawberry.field(
        description="The top members of the month, best first, at most `first` of them."
    )
    me: LeaderboardEntry | None = strawberry.field(
        description="The calling member's own entry, also when outside the top; null when "
        "they have not opted in or earned nothing this month."
    )

    @classmethod
    def from_domain(cls, board: Board) -> Leaderboard:
        return cls(
            month=str(board.month),
            enabled=board.enabled,
            opted_in=board.opted_in,
            entries=[_entry(s, board) for s in board.entries],
            me=_entry(board.me, board) if board.me is not None else None,
        )


async def program_leaderboard(info: Info) -> LeaderboardSettings:
    """`Program.leaderboard`: the settings of the caller's program."""
    program = await info.context.program()
    async with info.context.reader() as uow:
        settings = await uow.leaderboard.settings(program.id)
    return LeaderboardSettings.from_domain(settings)
