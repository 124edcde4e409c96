"""The one shape of a locked form save on the training pages (course, lesson, practical item, programme)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm.exc import StaleDataError

from ...crud import discard_changes, parse_version
from ...service_errors import StaleEdit, ValidationError
from ...views import apply_errors

SAVED, INVALID, STALE = "saved", "invalid", "stale"


def locked_save(form, obj, save: Callable[[int | None], object]) -> str:
    """Validate ``form`` and call ``save(version)`` with its posted version: SAVED; INVALID (the
    service's messages beside the fields); STALE (someone saved ``obj`` meanwhile: it is reloaded as
    stored and the form, still holding what was typed, carries the stored version for a resubmit)."""
    if not form.validate_on_submit():
        return INVALID
    try:
        save(parse_version(form.version.data))
    except (StaleEdit, StaleDataError):
        discard_changes(obj)
        form.version.data = str(obj.version)
        return STALE
    except ValidationError as exc:
        apply_errors(form, exc.errors)
        return INVALID
    return SAVED
