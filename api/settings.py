"""Configuration from `LOYALTY_*` environment variables (and a `.env` file)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'loyalty.db'}",
        description="sqlite:///path or postgresql://user@host/db (async drivers are implied).",
    )
    jwt_secret: str | None = Field(
        default=None, description="HS256 key; generated once into var/ when unset."
    )
    jwt_issuer: str = "loyalty"
    jwt_audience: str = "loyalty-api"
    card_key: str | None = Field(
        default=None,
        description="Key QR card secrets derive from; generated once into var/ when unset.",
    )
    jwks_file: Path | None = Field(default=None, description="Public keys for RS256/ES256 tokens.")
    jwt_leeway_seconds: int = 30
    production: bool = Field(default=False, description="Turns off GraphiQL and introspection.")
    db_pool_size: int = 10
    live_updates: bool = Field(
        default=True, description="Publish wallet events (PostgreSQL NOTIFY or in-process)."
    )
    gc_tuning: bool = Field(
        default=False,
        description="Keep startup objects out of the garbage collector and run full "
        "collections rarely (`loyalty serve` turns it on; see docs/PERFORMANCE.md).",
    )
    cost_budget: int = Field(default=2_000, description="Query cost a caller may burst.")
    cost_refill_per_second: float = Field(
        default=100.0, description="Query cost a caller regains per second."
    )
    cost_budget_shared: bool = Field(
        default=True,
        description="With PostgreSQL, share budgets across processes through the cost_bucket "
        "table (one statement per request); false keeps one budget per process.",
    )
    query_cpu_seconds: float = Field(
        default=1.0, gt=0, description="CPU one query may use before it stops (QUERY_TIMEOUT)."
    )
    max_page_size: int = 100
    var_dir: Path = VAR_DIR

    @cached_property
    def secret(self) -> str:
        """The HS256 secret: configured, or generated once into var/ and reused after."""
        return self.jwt_secret or self._generated("jwt-secret")

    @cached_property
    def card_key_bytes(self) -> bytes:
        """The card key: configured, or generated once into var/ and reused after."""
        return (self.card_key or self._generated("card-key")).encode()

    def _generated(self, name: str) -> str:
        """A random secret kept in var/<name> (mode 600), created by whoever comes first."""
        path = self.var_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)  # atomic, and fails if another process was first
            except FileExistsError:
                pass  # use the secret that process wrote
            finally:
                draft.unlink()
        return path.read_text().strip()
