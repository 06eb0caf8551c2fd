"""Parsed and validated documents, kept per query text for the next request that sends it.

Apps send the same few documents over and over, and parsing and validating one costs
more than running it. The cache is keyed by the SHA-256 of the text (32 bytes, not the
text) and bounded by bytes, not entries: a parsed document takes about 100 bytes per
character of a typical query (70 to 105 measured), so an entry is priced at that; a
query longer than `MAX_CACHED_QUERY_CHARS` is parsed and validated every time and never
kept, and the least recently used entries go once the total passes `MAX_CACHE_BYTES`.
Before this, 400 distinct 250 KB queries over HTTP kept 100 MB.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError

MAX_CACHED_QUERY_CHARS = 16 * 1024
MAX_CACHE_BYTES = 32 * 1024 * 1024
BYTES_PER_QUERY_CHAR = 100


@dataclass
class CachedDocument:
    document: DocumentNode
    size: int
    errors: list[GraphQLError] | None = None  # validation's verdict, once known


class DocumentCache:
    """Parsed documents (and their validation errors) by SHA-256 of the query text, least
    recently used dropped beyond `max_bytes` (estimated)."""

    def __init__(
        self, max_bytes: int = MAX_CACHE_BYTES, max_query_chars: int = MAX_CACHED_QUERY_CHARS
    ) -> None:
        self.max_bytes = max_bytes
        self.max_query_chars = max_query_chars
        self.bytes = 0
        self._entries: OrderedDict[bytes, CachedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> CachedDocument | None:
        if len(query) > self.max_query_chars:
            return None
        key = _digest(query)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, query: str, document: DocumentNode) -> CachedDocument | None:
        """Keep `document` for `query`; None when the query is too long to keep."""
        size = len(query) * BYTES_PER_QUERY_CHAR
        if len(query) > self.max_query_chars or size > self.max_bytes:
            return None
        key = _digest(query)
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        entry = self._entries[key] = CachedDocument(document, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= dropped.size
        return entry


def _digest(query: str) -> bytes:
    # lone surrogates reach us from JSON bodies; they must hash, not raise
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
