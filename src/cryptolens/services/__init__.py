"""Use cases: each takes its collaborators (session, engine, clients) and returns dataclasses.

Grouped by capability: ``market`` (ingesting, storing and auditing candles; the market clock),
``scanning`` (zones, lifecycle, signals, outcomes and the events they record), ``views`` (the
read models pages and the JSON API show), ``accounts`` (users, sign-in, plans, policy) and
``ops`` (administration, health, job runs, background work, the email outbox, event dispatch,
the demo).

Where queries live: ``db/`` holds, as keyword-only functions, every query more than one
service needs and those on the hot paths (candles, zones and signals as the scanner writes
them, scan state, events, symbols, known gaps). A service builds ``select()`` itself only for
what it alone reads or writes: its own read model, or the tables of its capability (users,
tokens, sessions and attempts in ``accounts``; job runs and the outbox in ``ops``), or its
own keys of the ``settings`` table (the market clock, the stats snapshot, admin's global
settings). Entry points (routes, templates, jobs, commands) build no query: they call a
service, or a ``db/`` function when the use case is that one call (a symbol looked up,
listed or added).
"""
