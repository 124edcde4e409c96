"""Training certification pages."""

from .. import bp  # noqa: F401
