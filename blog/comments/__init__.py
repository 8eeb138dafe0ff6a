"""Comments: posting, editing and deleting them, and reading them a page at a time."""
