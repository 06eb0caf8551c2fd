"""Configuration from `LOYALTY_*` environment variables (and a `.env` file)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message names it, in one line."""


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
    jwks_url: str | None = Field(
        default=None,
        description="An identity provider's JWKS URL (e.g. Auth0's "
        "https://TENANT/.well-known/jwks.json), fetched at start and refreshed.",
    )
    jwks_refresh_seconds: int = Field(
        default=300, ge=10, description="Refetch the JWKS URL's keys after this long."
    )
    claim_role: str = Field(default="role", description="Claim (or dotted path) with the role.")
    claim_program: str = Field(default="program", description="Claim with the program slug.")
    claim_store: str = Field(default="store", description="Claim with a staff member's store.")
    claim_partner: str = Field(default="partner", description="Claim with the partner slug.")
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
    ws_max_message_bytes: int = Field(
        default=256 * 1024,
        description="Largest WebSocket message accepted (the HTTP body limit); a larger one "
        "closes the socket (4413, or 1009 from uvicorn).",
    )
    ws_init_timeout_seconds: float = Field(
        default=10.0, description="Time a socket has to send connection_init (else 4408)."
    )
    ws_max_connections: int = Field(
        default=20_000, description="Open WebSockets per server process (more: closed 1013)."
    )
    ws_max_connections_per_caller: int = Field(
        default=5, description="Open WebSockets per token subject (more: closed 1008)."
    )
    ws_max_subscriptions: int = Field(
        default=50_000, description="Subscriptions per server process (more: refused)."
    )
    ws_max_subscriptions_per_caller: int = Field(
        default=20, description="Subscriptions per token subject, over all its sockets."
    )
    ws_max_operations_per_connection: int = Field(
        default=10, description="Subscriptions and running operations on one socket."
    )
    ws_event_concurrency: int = Field(
        default=2,
        description="Subscription events resolved at once per process: the rest of the "
        "database pool stays with requests.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins (scheme://host[:port]) whose pages may call the API from a "
        "browser, comma-separated; none by default.",
    )
    trusted_documents: Path | None = Field(
        default=None,
        description="JSON manifest of the only GraphQL documents the server runs "
        "({sha256: document}, or Apollo's persisted-query manifest).",
    )
    var_dir: Path = Field(
        default=VAR_DIR,
        description="Where development secrets and the SQLite file live (relative to the "
        "working directory unless absolute). Never used for secrets in production.",
    )
    host: str = Field(default="127.0.0.1", description="`loyalty serve` binds to this address.")
    port: int = Field(default=8000, ge=1, le=65535, description="`loyalty serve` port.")
    workers: int = Field(default=1, ge=1, le=64, description="`loyalty serve` processes.")
    jobs_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`loyalty jobs` serves its Prometheus metrics on 127.0.0.1 at this port.",
    )
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans for operations and SQL, exported over OTLP/HTTP "
        "(OTEL_EXPORTER_OTLP_ENDPOINT); needs the `otel` extra.",
    )
    tracing_service_name: str = Field(default="loyalty", description="service.name of spans.")
    metrics_token: str | None = Field(
        default=None, description="When set, /metrics needs `Authorization: Bearer <token>`."
    )

    def production_problems(self) -> list[str]:
        """What production mode lacks: each entry names the setting to fix."""
        if not self.production:
            return []
        problems = []
        if not self.jwt_secret and self.jwks_file is None and not self.jwks_url:
            problems.append(
                "set LOYALTY_JWT_SECRET, LOYALTY_JWKS_FILE or LOYALTY_JWKS_URL (token keys)"
            )
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            problems.append("LOYALTY_JWT_SECRET must be at least 32 bytes")
        if not self.card_key:
            problems.append("set LOYALTY_CARD_KEY (the key card secrets derive from)")
        if not self.database_url.startswith(("postgresql://", "postgres://")):
            problems.append("LOYALTY_DATABASE_URL must be a postgresql:// URL")
        return problems

    def check(self) -> None:
        """Refuse to run with a configuration that production mode does not allow."""
        problems = self.production_problems()
        if problems:
            raise ConfigurationError("production mode: " + "; ".join(problems))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @cached_property
    def secret(self) -> str:
        """The HS256 secret: configured, or generated once into var/ and reused after."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.production:
            raise ConfigurationError("production mode: set LOYALTY_JWT_SECRET")
        return self._generated("jwt-secret")

    @cached_property
    def card_key_bytes(self) -> bytes:
        """The card key: configured, or generated once into var/ and reused after."""
        if self.card_key:
            return self.card_key.encode()
        if self.production:
            raise ConfigurationError("production mode: set LOYALTY_CARD_KEY")
        return self._generated("card-key").encode()

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
