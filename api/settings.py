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
    jwks_file: Path | None = Field(default=None, description="Public keys for RS256/ES256 tokens.")
    jwt_leeway_seconds: int = 30
    production: bool = Field(default=False, description="Turns off GraphiQL and introspection.")
    db_pool_size: int = 10
    cost_budget: int = Field(default=2_000, description="Query cost a caller may burst.")
    cost_refill_per_second: float = Field(
        default=200.0, description="Query cost a caller regains per second."
    )
    max_page_size: int = 100
    var_dir: Path = VAR_DIR

    @cached_property
    def secret(self) -> str:
        """The HS256 secret: configured, or generated once into var/ and reused after."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.var_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process won the race; use its secret
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
