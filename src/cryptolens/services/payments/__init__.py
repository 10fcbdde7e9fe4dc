"""Selling plans: checkout through a provider, signed webhooks applied once, the lifecycle.

``providers`` holds the interface and builds the configured providers; ``lemonsqueezy`` and
``nowpayments`` speak each API; ``webhooks`` verifies, stores once and applies an event;
``lifecycle`` turns events into payments and subscription periods; ``billing`` is what the
account page shows and the cancel button does."""
