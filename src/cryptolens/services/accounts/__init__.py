"""Accounts: registration, sign-in and its throttling, passwords, emailed tokens, two-factor,
server-side sessions, plans (subscriptions) and the policy that decides what a user may do."""
