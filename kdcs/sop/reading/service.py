"""Required reading: targets, acknowledgements, reminders, the matrix (work in progress)."""

from __future__ import annotations

from ...models.sop import SopVersion


def on_published(version: SopVersion) -> None:
    """Called by sop-core when a version is published (in its transaction; the caller commits)."""
    return None
