"""Alembic environment: runs on the connection `Database.migrate` hands over."""

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from kb_service.db.base import UTCDateTime
from kb_service.db.models import Base

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # `alembic revision --autogenerate` from the command line
        url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
        connection = create_engine(url).connect()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
