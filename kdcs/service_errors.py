"""Exceptions every feature service raises; views map them to 200-with-errors and 409."""


class ValidationError(Exception):
    """Bad input: ``errors`` maps a field name to a message shown beside it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class StaleEdit(Exception):
    """Someone else saved the record since the form was loaded (answer 409)."""


class NotFound(Exception):
    """The object does not exist or is outside the actor's scope (the app answers 404)."""
