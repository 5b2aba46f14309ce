"""Claiming source syncs with leases (`workers.lease_queue`): one sync per source at a time.

A sync claimed `MAX_ATTEMPTS` times without finishing is failed (`sync.SourceSyncer`).
"""

from __future__ import annotations

from kb_service.workers.lease_queue import LeaseLost, LeaseQueue

__all__ = ["MAX_ATTEMPTS", "LeaseLost", "SyncQueue"]

MAX_ATTEMPTS = 3


class SyncQueue(LeaseQueue):
    table = "source_syncs"
    group = "source_id"
