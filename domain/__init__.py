"""Loyalty rules and use cases. Imports no database, web or GraphQL library."""
