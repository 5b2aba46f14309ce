"""The server secret: `KB_SECRET_KEY`, or one generated once into `KB_DATA_DIR`.

It keys what the service keeps sealed at rest (stored idempotent responses, see
`services/idempotency_seal.py`). Every process that shares a database must use the same
secret: processes sharing one `KB_DATA_DIR` share the generated file (`secret_key`,
mode 0600); API replicas that share a PostgreSQL database on different machines must
be given one `KB_SECRET_KEY`, or each seals records the others cannot find.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from kb_service.settings import ConfigurationError, Settings

SECRET_FILE = "secret_key"
MIN_LENGTH = 32

log = logging.getLogger(__name__)


def server_secret(settings: Settings) -> bytes:
    """`KB_SECRET_KEY`, else the secret in `KB_DATA_DIR/secret_key` (created on first use)."""
    if settings.api.secret_key is not None:
        return settings.api.secret_key.get_secret_value().encode()
    path = settings.storage.data_dir / SECRET_FILE
    if not path.exists():
        _create(path)
        if settings.storage.database_url and not settings.storage.database_url.startswith("sqlite"):
            log.warning(
                "KB_SECRET_KEY is unset: generated %s. Replicas sharing this PostgreSQL "
                "database must all be given one KB_SECRET_KEY.",
                path,
            )
    return _read(path)


def _create(path: Path) -> None:
    # Written to a private temporary file, then linked into place: a concurrent process
    # either wins the link or reads the winner's complete file, never a partial one.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(MIN_LENGTH) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its secret
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the server secret {path} ({exc.strerror}); set KB_SECRET_KEY "
            "or fix the file's permissions."
        ) from None
    if len(secret) < MIN_LENGTH:
        raise ConfigurationError(
            f"The server secret {path} is shorter than {MIN_LENGTH} characters: delete it "
            "to have a new one generated, or set KB_SECRET_KEY."
        )
    if path.stat().st_mode & 0o077:
        log.warning("The server secret %s is readable by other users: chmod 600 it.", path)
    return secret
