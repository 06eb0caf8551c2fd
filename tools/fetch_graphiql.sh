#!/usr/bin/env bash
# Fetches the pinned GraphiQL, React and ReactDOM builds from the npm registry (npm pack
# checks each tarball's integrity) into api/static/graphiql/, from where the development
# server serves GraphiQL without any CDN. Needs npm. Run by `make graphiql-assets`.
set -euo pipefail

GRAPHIQL_VERSION=3.8.3
REACT_VERSION=18.3.1

dest="$(cd "$(dirname "$0")/.." && pwd)/api/static/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" >/dev/null
for package in "graphiql-$GRAPHIQL_VERSION" "react-$REACT_VERSION" "react-dom-$REACT_VERSION"; do
  mkdir "$package"
  tar xzf "$package.tgz" -C "$package"
done
graphiql="graphiql-$GRAPHIQL_VERSION/package"

# GraphiQL's builds carry no licence header: add one. The source maps are not shipped,
# so their references go (browsers would ask for them).
banner="graphiql $GRAPHIQL_VERSION | MIT License | Copyright (c) 2021 GraphQL Contributors | see LICENSE.graphiql"
{ printf '/*! %s */\n' "$banner"; sed '$ { /sourceMappingURL=/d }' "$graphiql/graphiql.min.js"; } \
  >"$dest/graphiql.min.js"
{ printf '/*! %s */\n' "$banner"; sed '$ { /sourceMappingURL=/d }' "$graphiql/graphiql.min.css"; } \
  >"$dest/graphiql.min.css"
cp "$graphiql/LICENSE" "$dest/LICENSE.graphiql"
# React's builds start with their licence header.
cp "react-$REACT_VERSION/package/umd/react.production.min.js" "$dest/"
cp "react-dom-$REACT_VERSION/package/umd/react-dom.production.min.js" "$dest/"
cp "react-$REACT_VERSION/package/LICENSE" "$dest/LICENSE.react"

echo "GraphiQL $GRAPHIQL_VERSION and React $REACT_VERSION are in ${dest#"$PWD"/}"
