"""Background work, all on one polling/lease loop (`base.PollingWorker`).

- `ingest/`: the job queue's worker side (fair claims, renew, fence, hand back), the
  worker pool, and processing a job (prepare, embed, index, record); files are parsed
  in parser processes under a time and memory limit (`ingest.parser_pool`);
- `webhooks/`: the dispatcher, outbox fan-out, signed delivery attempts, retry schedule;
- `meetings/`: the meeting indexer (live segments, ended meetings), its leases, points;
- `scheduler.py`: durable schedules (rows due at `next_run_at`, each slot fired once),
  generic over the table; web sources use it, scheduled tasks can too;
- `sources/`: web source syncs: their lease queue, the sync loop, running one sync.

Request-time code only queues work (`services.ingestion`, `db.events`,
`services.meetings`, `services.meeting_callbacks`, `services.sources`); the commit
that queues it wakes this process's loop (`db.database.wake_after_commit`, `Runtime.wake`). Stopping
(`Runtime.close`) kills running parses and hands unfinished jobs back within seconds.
"""
