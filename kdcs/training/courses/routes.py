"""Training courses pages."""

from .. import bp  # noqa: F401
