"""Use cases: short async functions over a unit of work. Each commits once, at its end."""
