"""Retry policy of the meter collector's uploads to Ledgerline."""

import random
import time

MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5


class RetryBudgetExceeded(Exception):
    """Raised when an upload failed MAX_ATTEMPTS times."""


def backoff_delay(attempt: int) -> float:
    """Full-jitter exponential backoff: up to 0.5 s * 2**attempt, capped at 30 s."""
    ceiling = min(30.0, BASE_DELAY_SECONDS * 2**attempt)
    return random.uniform(0, ceiling)


# Called by the uploader thread for every batch of readings.
def upload_with_retries(send, batch):
    """Send one batch of meter readings, retrying transient failures."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return send(batch)
        except ConnectionError:
            time.sleep(backoff_delay(attempt))

    raise RetryBudgetExceeded(f"gave up after {MAX_ATTEMPTS} attempts")
