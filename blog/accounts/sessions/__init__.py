"""Each user's sessions: recorded at sign-in, seen, listed and ended by their owner."""
