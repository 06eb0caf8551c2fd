"""Persisted documents: automatic persisted queries (APQ) and trusted documents.

APQ follows Apollo's protocol: a client sends `extensions.persistedQuery =
{"version": 1, "sha256Hash": "<hex>"}` without the document. An unknown hash answers
`PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND, HTTP 200 as Apollo's clients
expect); the client then sends the hash with the document, the server checks that the
hash is the document's SHA-256, runs it and keeps it (in this process, least recently
used dropped past `APQ_MAX_BYTES`); from then on the hash alone is enough.

Trusted documents (`LOYALTY_TRUSTED_DOCUMENTS`) are for production: a manifest of the
only documents the server runs, parsed and validated once at start. A request names one
by hash (as APQ does) or sends a document whose hash is in the manifest; anything else
is refused with PERSISTED_QUERY_NOT_ALLOWED. The manifest is either a plain map
`{"<sha256 of the document>": "<document>"}` or Apollo's persisted-query manifest
(`{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id":
"<sha256 of body>", "body": "...", "name": "...", "type": "query"}]}`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.documents import DocumentCache

APQ_MAX_BYTES = 8 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueryError(Exception):
    """A request the persisted-document rules refuse. `status` None: a GraphQL request
    error (200 as application/json, 400 as application/graphql-response+json)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class TrustedDocumentsError(Exception):
    """The manifest cannot be used; the message is one line that says why."""


class AutomaticPersistedQueries:
    """Documents by SHA-256, least recently used dropped past `max_bytes` (UTF-8)."""

    def __init__(self, max_bytes: int = APQ_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._documents: OrderedDict[str, str] = OrderedDict()

    def get(self, digest: str) -> str | None:
        document = self._documents.get(digest)
        if document is not None:
            self._documents.move_to_end(digest)
        return document

    def put(self, digest: str, document: str) -> None:
        if digest in self._documents:
            self._documents.move_to_end(digest)
            return
        size = len(document.encode())
        if size > self.max_bytes:
            return
        self._documents[digest] = document
        self.size += size
        while self.size > self.max_bytes:
            _, dropped = self._documents.popitem(last=False)
            self.size -= len(dropped.encode())


class TrustedDocuments:
    """The manifest's documents by hash, each parsed and validated once."""

    def __init__(self, documents: Mapping[str, str], parsed: Mapping[str, DocumentNode]) -> None:
        self._by_hash = dict(documents)
        self._parsed = dict(parsed)  # by document text

    def __len__(self) -> int:
        return len(self._by_hash)

    def by_hash(self, digest: str) -> str | None:
        return self._by_hash.get(digest)

    def parsed(self, document: str | None) -> DocumentNode | None:
        return self._parsed.get(document) if document is not None else None

    @classmethod
    def load(
        cls, path: Path, schema: GraphQLSchema, rules: Collection[type[ASTValidationRule]]
    ) -> TrustedDocuments:
        """Read, hash-check, parse and validate every document of the manifest at `path`."""
        try:
            manifest = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TrustedDocumentsError(f"{path}: cannot read the manifest: {error}") from error
        documents = _manifest_documents(path, manifest)
        parsed: dict[str, DocumentNode] = {}
        for digest, document in documents.items():
            if sha256_hex(document) != digest:
                raise TrustedDocumentsError(f"{path}: {digest} is not the SHA-256 of its document")
            try:
                node = parse(document)
            except GraphQLError as error:
                raise TrustedDocumentsError(_invalid(path, digest, error)) from error
            errors = validate_document(schema, node, tuple(rules))
            if errors:
                raise TrustedDocumentsError(_invalid(path, digest, errors[0]))
            parsed[document] = node
        return cls(documents, parsed)


def _invalid(path: Path, digest: str, error: GraphQLError) -> str:
    return f"{path}: document {digest} is invalid: {error.message}".replace("\n", " ")


def _manifest_documents(path: Path, manifest: Any) -> dict[str, str]:
    """{hash: document} from a plain map or an Apollo persisted-query manifest."""
    if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if manifest.get("version") != 1 or not isinstance(operations, list):
            raise TrustedDocumentsError(
                f"{path}: expected version 1 of apollo-persisted-query-manifest with operations"
            )
        pairs = [
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (None, None)
            for op in operations
        ]
    elif isinstance(manifest, dict):
        pairs = list(manifest.items())
    else:
        raise TrustedDocumentsError(f"{path}: expected a JSON object {{sha256: document}}")
    documents: dict[str, str] = {}
    for digest, document in pairs:
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise TrustedDocumentsError(f"{path}: {digest!r} is not a lowercase hex SHA-256")
        if not isinstance(document, str):
            raise TrustedDocumentsError(f"{path}: the document of {digest} is not a string")
        documents[digest] = document
    return documents


@dataclass(frozen=True)
class Resolved:
    """The document a request runs, and the APQ hash to remember it by once it validated."""

    query: str
    register: str | None = None


class PersistedDocuments:
    """Which document a request runs: its own, a persisted one by hash, or none."""

    def __init__(
        self, trusted: TrustedDocuments | None, apq: AutomaticPersistedQueries | None
    ) -> None:
        self.trusted = trusted
        self.apq = apq

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None:
                raise PersistedQueryError(
                    "BAD_REQUEST", "The request has no `query` (the GraphQL document).", 400
                )
            if self.trusted is not None and self.trusted.by_hash(sha256_hex(query)) is None:
                raise _not_allowed()
            return Resolved(query)
        digest = _persisted_hash(persisted)
        if query is not None and sha256_hex(query) != digest:
            raise PersistedQueryError(
                "PERSISTED_QUERY_HASH_MISMATCH",
                "extensions.persistedQuery.sha256Hash is not the SHA-256 of `query`.",
                400,
            )
        if self.trusted is not None:
            document = self.trusted.by_hash(digest)
            if document is None:
                raise _not_allowed()
            return Resolved(document)
        if query is not None:
            return Resolved(query, register=digest if self.apq is not None else None)
        document = self.apq.get(digest) if self.apq is not None else None
        if document is None:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", 200)
        return Resolved(document)

    def remember(self, resolved: Resolved) -> None:
        """Keep an APQ document that parsed and validated."""
        if resolved.register is not None and self.apq is not None:
            self.apq.put(resolved.register, resolved.query)


def _persisted_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "BAD_REQUEST", "Unsupported persisted query version (only version 1 is).", 400
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise PersistedQueryError(
            "BAD_REQUEST",
            "extensions.persistedQuery.sha256Hash must be a lowercase hex SHA-256.",
            400,
        )
    return digest


def _not_allowed() -> PersistedQueryError:
    return PersistedQueryError(
        "PERSISTED_QUERY_NOT_ALLOWED",
        "This server runs only its trusted documents; this one is not among them.",
    )


class DocumentParser(SchemaExtension):
    """Parses each distinct document text once: trusted documents were parsed at start,
    others go through a bounded cache. A text that does not parse is left to strawberry's
    own parse, which reports it within the operation (so it gets its error code).

    Then it checks GraphQL's GetOperation(): without `operationName` a document must hold
    one operation (strawberry would quietly run the first)."""

    def __init__(self, trusted: TrustedDocuments | None, cache: DocumentCache) -> None:
        self.trusted = trusted
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        known = self.trusted.parsed(ctx.query) if self.trusted is not None else None
        if known is not None:
            ctx.graphql_document = known
        elif ctx.query:
            entry = self.cache.get(ctx.query)
            if entry is not None:
                ctx.graphql_document = entry.document
            else:
                with contextlib.suppress(GraphQLError):
                    document = parse(ctx.query, **ctx.parse_options)
                    self.cache.put(ctx.query, document)
                    ctx.graphql_document = document
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        # strawberry keeps the request's operationName only privately; `operation_name`
        # falls back to the first operation's (tests/api/test_http_spec.py covers both)
        named = getattr(ctx, "_provided_operation_name", None)
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None and not named:
            operations = [
                d
                for d in ctx.graphql_document.definitions
                if isinstance(d, OperationDefinitionNode)
            ]
            if len(operations) > 1:
                ctx.pre_execution_errors = [
                    GraphQLError(
                        "The document holds several operations: name the one to run "
                        "in `operationName`.",
                        extensions={"code": "OPERATION_RESOLUTION_FAILURE"},
                    )
                ]
        yield
