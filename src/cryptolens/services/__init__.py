"""Use cases: each takes its collaborators (session, engine, clients) and returns dataclasses."""
