"""What a webhook is, for request-time code and the dispatcher alike: signing, URL safety.

Delivering them (outbox fan-out, attempts, the retry schedule, the dispatcher loop)
is background work in `kb_service.workers.webhooks`.
"""
