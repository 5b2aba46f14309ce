"""The metadata database handle: the only module that creates SQLAlchemy engines.

SQLite (embedded default) runs in WAL mode with a busy timeout so API threads and
worker threads can share it; PostgreSQL is used as is. Schema changes go through
Alembic (`migrate`), serialised across processes on PostgreSQL by an advisory lock.

A transaction that leaves work for a background loop says so (`wake_after_commit`);
after it commits, `Database.on_commit` callbacks hear what (the runtime wakes the loop),
so the work starts at once instead of at the loop's next poll.

JSON columns are written by `strict_json.dumps_for_storage`: a value that could not be
read back (NaN, a lone surrogate, an integer beyond 64 bits) fails the statement, so
its transaction rolls back instead of committing a row that breaks later reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from kb_service.strict_json import dumps_for_storage

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK_ID = 0x6B62_7376  # "kbsv"
_WAKE = "kb_wake"  # `Session.info` key: the `Wake`s of this transaction

log = logging.getLogger(__name__)


class Wake(StrEnum):
    """Work a committed transaction left for a background loop."""

    WEBHOOKS = "webhooks"  # outbox events recorded, a delivery retried: the dispatcher
    INGEST = "ingest"  # an ingest job queued: the ingest workers
    MEETINGS = "meetings"  # meeting segments stored, a meeting ended: the meeting indexer
    SOURCES = "sources"  # a source sync queued: the source sync workers
    TASKS = "tasks"  # a task run queued: the task run workers


def wake_after_commit(session: Session, what: Wake) -> None:
    """Once `session`'s transaction commits, tell the `on_commit` callbacks about `what`."""
    session.info.setdefault(_WAKE, set()).add(what)


class Database:
    """Engine + session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        kwargs: dict[str, Any] = {"future": True, "json_serializer": dumps_for_storage}
        if self.dialect == "sqlite":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Called with each `Wake` of a committed transaction (see `wake_after_commit`).
        self.on_commit: list[Callable[[Wake], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for what in sorted(session.info.pop(_WAKE, ())):
            for callback in self.on_commit:
                try:
                    callback(what)
                except Exception:  # a wake-up is an optimisation; the poll still runs
                    log.exception("an after-commit callback (%s) failed", what)

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            if not self.is_sqlite:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
