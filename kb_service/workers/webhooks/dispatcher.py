"""The webhook dispatcher: fans the outbox out and delivers due deliveries concurrently.

One loop thread (a `PollingWorker`) polls every KB_WEBHOOK_POLL_SECONDS, or at once
after `notify` (an event committed, a retry requested, a sender thread freed): fan out
new events, then claim as many due deliveries as there are free sender threads
(KB_WEBHOOK_CONCURRENCY). A claim is a lease (`delivering` until
`lease_expires_at`); a dispatcher that dies mid-attempt leaves its claims to expire,
and any dispatcher (after a restart, or another process) claims them again. Nothing
is lost, and an event may be delivered twice (at-least-once; same `webhook-id`).

A receiver that hangs holds a sender thread for at most the timeout
(KB_WEBHOOK_TIMEOUT_SECONDS, 10 s), and one endpoint never holds more than a quarter
of the sender threads (`per_endpoint`, counted over every dispatcher's live claims),
so a hanging or slow receiver with a backlog cannot crowd out the others. Under
`serve` the dispatcher runs in-process; `kb-service worker` runs one too; on
PostgreSQL any number of them share the work (`FOR UPDATE SKIP LOCKED`).

`clock` and `rng` are injectable so the retry schedule can be tested without waiting.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, func, or_, select, update

from kb_service.db.base import utcnow
from kb_service.db.database import Database
from kb_service.db.webhooks import WebhookDelivery
from kb_service.statuses import DeliveryStatus
from kb_service.workers.base import Lane, PollingWorker
from kb_service.workers.webhooks.delivery import USER_AGENT, attempt_delivery
from kb_service.workers.webhooks.outbox import fan_out

log = logging.getLogger(__name__)


class WebhookDispatcher(PollingWorker):
    # Delivery mostly waits on the network: at normal priority an attempt (its sender
    # thread inherits the loop thread's priority) never waits behind a batch of embeddings.
    lower_priority = False
    after_failure = "its claimed deliveries' leases will expire and be claimed again"

    def __init__(
        self,
        db: Database,
        *,
        timeout: float = 10.0,
        concurrency: int = 16,
        per_endpoint: int | None = None,
        poll_seconds: float = 0.2,
        allow_private: bool = False,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        lane = Lane.new("kb-webhook-dispatcher")
        super().__init__(lanes=[lane], poll_seconds=poll_seconds)
        self.db = db
        self.timeout = timeout
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint or max(1, concurrency // 4)
        self.allow_private = allow_private
        self.clock = clock
        self.rng = rng or random.Random()
        self.owner = lane.owner
        # A lease outlives one attempt (timeout) with a margin for recording it; after
        # that the delivery is presumed orphaned by a dead dispatcher and claimed again.
        self.lease = timedelta(seconds=timeout * 2 + 5)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # Direct connections only: a proxy from the environment would resolve the
            # host itself, around the vetted-address pinning of the SSRF guard.
            trust_env=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=concurrency * 2),
        )
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="kb-webhook")
        self._inflight: set[Future[str | None]] = set()
        self._lock = threading.Lock()

    def work(self, lane: Lane) -> bool:
        """One pass; go again at once while deliveries were started and threads are free."""
        return self.run_once(wait=False) > 0 and not self._full()

    def run_once(self, *, wait: bool = True) -> int:
        """Fan out and start every due delivery there is room for; the number started."""
        with self.db.session() as session:
            fan_out(session, now=self.clock(), is_sqlite=self.db.is_sqlite)
        with self._lock:
            self._inflight = {f for f in self._inflight if not f.done()}
            room = self.concurrency - len(self._inflight)
        claimed = self._claim(room) if room > 0 else []
        futures = [self._pool.submit(self._attempt, delivery_id) for delivery_id in claimed]
        with self._lock:
            self._inflight.update(futures)
        if wait:
            wait_for(futures)
        return len(claimed)

    def _attempt(self, delivery_id: str) -> str | None:
        try:
            return attempt_delivery(
                self.db,
                delivery_id,
                owner=self.owner,
                client=self._client,
                clock=self.clock,
                rng=self.rng,
                allow_private=self.allow_private,
            )
        except Exception:
            log.exception("delivery %s failed unexpectedly; its lease will expire", delivery_id)
            return None
        finally:
            self.notify()  # a sender thread is free again

    def _claim(self, limit: int) -> list[str]:
        now = self.clock()
        due = or_(
            and_(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            ),
            and_(
                WebhookDelivery.status == DeliveryStatus.DELIVERING,
                WebhookDelivery.lease_expires_at < now,
            ),
        )
        with self.db.session() as session:
            busy: Counter[str] = Counter(
                dict(
                    session.execute(
                        select(WebhookDelivery.webhook_id, func.count())
                        .where(
                            WebhookDelivery.status == DeliveryStatus.DELIVERING,
                            WebhookDelivery.lease_expires_at >= now,
                        )
                        .group_by(WebhookDelivery.webhook_id)
                    )
                    .tuples()
                    .all()
                )
            )
            saturated = [hook for hook, n in busy.items() if n >= self.per_endpoint]
            candidates = (
                select(WebhookDelivery.id, WebhookDelivery.webhook_id)
                .where(due, WebhookDelivery.webhook_id.not_in(saturated))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit * 4)
            )
            if not self.db.is_sqlite:
                candidates = candidates.with_for_update(skip_locked=True)
            chosen: list[str] = []
            for delivery_id, hook in session.execute(candidates).tuples():
                if busy[hook] < self.per_endpoint:
                    busy[hook] += 1
                    chosen.append(delivery_id)
                    if len(chosen) == limit:
                        break
            if not chosen:
                return []
            # `due` again: on SQLite (no row locks) another dispatcher may have claimed
            # a candidate since it was read; RETURNING names only what is ours.
            rows = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(chosen), due)
                .values(
                    status=DeliveryStatus.DELIVERING,
                    lease_owner=self.owner,
                    lease_expires_at=now + self.lease,
                )
                .returning(WebhookDelivery.id),
                execution_options={"synchronize_session": False},
            ).all()
        return [str(r[0]) for r in rows]

    def _full(self) -> bool:
        with self._lock:
            return sum(not f.done() for f in self._inflight) >= self.concurrency

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; give attempts in progress up to `timeout` to finish."""
        super().stop(30.0 if timeout is None else timeout)
        with self._lock:
            pending = set(self._inflight)
        wait_for(pending, timeout=self.timeout + 1 if timeout is None else timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
