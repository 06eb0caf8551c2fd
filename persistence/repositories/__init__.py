"""Repository implementations of domain.ports, one module per concern."""
