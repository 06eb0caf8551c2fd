"""The GraphQL API, HTTP app and `loyalty` command: the outermost layer, wiring the rest."""
