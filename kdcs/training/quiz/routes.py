"""Training quiz pages."""

from .. import bp  # noqa: F401
