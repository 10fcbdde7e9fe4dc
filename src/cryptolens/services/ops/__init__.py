"""Operations: administration, health, durable job runs, background work, the email outbox
and its courier, dispatching domain events, and the local demo."""
