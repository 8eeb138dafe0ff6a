"""Posts: writing, publishing and reading them, and their rendered bodies."""
