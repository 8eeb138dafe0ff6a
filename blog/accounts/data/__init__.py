"""Your data: a copy of everything the account holds, and the account's deletion."""
