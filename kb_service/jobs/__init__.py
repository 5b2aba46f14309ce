"""The durable ingest job queue and the workers that drain it."""
