"""Accounts: the user model, signup, login and the per-address limits around them."""
