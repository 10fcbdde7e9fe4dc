"""Outgoing messages, with no database or Flask: ``channel`` (the interface every channel
implements: Message in, Delivered / Retryable / Permanent out), ``email`` (SMTP), ``emails``
(the account emails, rendered from ``templates/email``), ``links`` (absolute links from
PUBLIC_URL), ``targets`` (validated ntfy / webhook / Apprise destinations and their redacted
form), ``signal_message`` (a signal's alert), ``send`` (ntfy, webhooks and Apprise, many at
once over one pooled session), ``webhook`` (HMAC signatures), ``addresses`` (the
private-address guard, NOTIFY_ALLOW_PRIVATE_TARGETS) and ``apprise_client`` (the typed edge
of Apprise). Storing and queueing are services/ops/outbox, services/ops/mail and
services/notifications."""
