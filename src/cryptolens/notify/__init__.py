"""Outgoing messages, with no database or Flask: ``channel`` (the interface every channel
implements: Message in, Delivered / Retryable / Permanent out), ``email`` (SMTP, the one
channel so far), ``emails`` (the account emails, rendered from ``templates/email``) and
``links`` (absolute links from PUBLIC_URL). Storing and queueing are services/ops/outbox and
services/ops/mail."""
