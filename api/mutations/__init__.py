"""Root mutation fields, one module per concern. Each takes one `input` and returns a payload."""
