"""GraphiQL for development, with its assets served from the package: it works offline.

The page is api/graphiql.html; React, ReactDOM and GraphiQL are pinned copies in
api/static/graphiql/ (`make graphiql-assets` fetches them again from the npm registry).
Its Content-Security-Policy lets the page load nothing from elsewhere. Production mode
serves neither (see api/app.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
ASSETS = HERE / "static" / "graphiql"
# The page's asset URLs are relative ("graphiql/..."): from /graphql they resolve here,
# and behind a proxy that adds a path prefix they keep it.
ASSETS_PATH = "/graphiql"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def wants_html(accept: str | None, query_params: Mapping[str, str]) -> bool:
    """A browser opening /graphql (it asks for HTML and sends no GraphQL request)."""
    return (
        "text/html" in (accept or "")
        and "query" not in query_params
        and "extensions" not in query_params
    )


@cache
def _page() -> str:
    return (HERE / "graphiql.html").read_text(encoding="utf-8")


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(
        _page(), headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    )


def graphiql_assets() -> Mount:
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS), name="graphiql")
