"""Answers kept in ``g`` for the rest of a request, forgotten whenever the session writes.

A feature that memoizes a lookup per request (who covers which outlet, going-live rows, what
an agent still lacks) registers its ``g`` keys with ``forget_on_write``; one set of listeners
drops them all on a flush, commit or rollback and on a bulk UPDATE / DELETE / INSERT through the
session (which does not flush), so nothing answers from before a write.
"""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

_KEYS: set[str] = set()


def forget_on_write(*keys: str) -> None:
    """Register ``g`` keys holding per-request answers that a write may change."""
    _KEYS.update(keys)


def _forget() -> None:
    if has_app_context():
        for key in _KEYS:
            g.pop(key, None)


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_after_write(*_args) -> None:
    _forget()


@event.listens_for(Session, "do_orm_execute")
def _forget_after_bulk_write(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        _forget()
