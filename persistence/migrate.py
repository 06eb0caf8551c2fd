"""Create or upgrade the schema of a database with Alembic (`loyalty migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from persistence.db import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database at `url` to `revision` (synchronous: call it off the event loop);
    answers the revisions before and after (None: no schema)."""
    ensure_sqlite_directory(url)
    config = alembic_config(url)
    command.upgrade(config, revision)
    return config.attributes.get("from_revision"), config.attributes.get("to_revision")
