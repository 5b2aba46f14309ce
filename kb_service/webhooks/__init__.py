"""Webhook delivery: outbox fan-out, Standard Webhooks signing, the retrying dispatcher."""
