"""Ticket writes stored once per form: notes, replies, fines and evidence uploads.

Each of those forms carries a random key made when it was rendered (``new_key``). The
service looks the key up for the same user and action first (``earlier``): found, it answers
what that write stored, nothing is written again. Otherwise it writes, then claims the key in
the same transaction (``claim``: INSERT … ON CONFLICT DO NOTHING, so a concurrent submit of
the same key never raises and never logs an error); the loser of that race rolls its write
back and answers the winner's result. A key sent by another user is simply a new key for
them: it never answers someone else's write. Keys are kept a day (``purge``, periodic).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import utcnow
from ..models.idempotency import IdempotencyKey

NOTE, REPLY, FINE, ATTACHMENT = "ticket.note", "ticket.reply", "ticket.fine", "ticket.attachment"
KEEP = timedelta(days=1)  # a retry comes within minutes; a day leaves room for a laptop asleep
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def new_key() -> str:
    """A fresh random key for a form being rendered."""
    return uuid.uuid4().hex


def clean(raw) -> str | None:
    """The key as sent, or None when missing or malformed (then the write is simply not deduplicated)."""
    value = (raw or "").strip() if isinstance(raw, str) else ""
    return value if _KEY.fullmatch(value) else None


_STATEMENTS: dict[str, object] = {}


def _statement(name: str):
    """The key lookup and the claims, built once per process with their values as parameters
    (each write built both again: their cache keys cost more than running them)."""
    statement = _STATEMENTS.get(name)
    if statement is None:
        if name == "earlier":
            statement = select(IdempotencyKey).where(
                IdempotencyKey.user_id == bindparam("user_id"), IdempotencyKey.action == bindparam("action"),
                IdempotencyKey.key == bindparam("key"))
        else:
            insert = pg_insert if name == "claim_postgresql" else sqlite_insert
            statement = (insert(IdempotencyKey)
                         .values(user_id=bindparam("user_id"), action=bindparam("action"), key=bindparam("key"),
                                 ticket_id=bindparam("ticket_id"), result_ids=bindparam("result_ids"),
                                 created_at=bindparam("created_at"))
                         .on_conflict_do_nothing(index_elements=["user_id", "action", "key"])
                         .returning(IdempotencyKey.id))  # psycopg 3 reports rowcount -1 here: RETURNING says it
        _STATEMENTS[name] = statement
    return statement


def earlier(actor, action: str, key: str | None) -> IdempotencyKey | None:
    """The stored write of ``actor`` under this key and action, if any."""
    if not key or getattr(actor, "id", None) is None:
        return None
    return db.session.scalar(_statement("earlier"), {"user_id": actor.id, "action": action, "key": key})


def claim(actor, action: str, key: str | None, ticket_id: int | None, result_ids) -> bool:
    """Store the key with what the write stored, in the write's transaction (the caller commits).

    True when this call stored it (or there is no key); False when a concurrent submit of the
    same key already did: the caller rolls its write back and answers ``earlier``.
    """
    if not key:
        return True
    dialect = "postgresql" if db.session.get_bind().dialect.name == "postgresql" else "sqlite"
    return db.session.execute(_statement(f"claim_{dialect}"), {
        "user_id": actor.id, "action": action, "key": key, "ticket_id": ticket_id,
        "result_ids": ",".join(str(i) for i in result_ids), "created_at": utcnow()}).scalar() is not None


def purge(now: datetime | None = None, keep: timedelta = KEEP) -> int:
    """Delete keys older than ``keep``; how many. Safe to run twice or from two workers."""
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < (now or utcnow()) - keep))
    db.session.commit()
    return result.rowcount or 0
