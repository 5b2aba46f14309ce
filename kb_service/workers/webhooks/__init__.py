"""Webhook delivery: outbox fan-out, signed attempts, the retry schedule, the dispatcher."""
