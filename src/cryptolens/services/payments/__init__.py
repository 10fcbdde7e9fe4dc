"""Selling plans: checkout through a provider, signed webhooks applied once, the lifecycle.

``providers`` holds the interface and builds the configured providers; ``lemonsqueezy`` and
``nowpayments`` speak each API (over ``http``); ``checkout`` starts a purchase; ``webhooks``
verifies, stores once and applies an event; ``lifecycle`` turns events into payments and
subscription periods and sends the billing emails; ``billing`` is what the account page shows
and the cancel button does; ``admin`` is what the admin pages list and grant."""
