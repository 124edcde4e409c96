"""Ticket import from Excel/CSV: upload, column mapping, background validation and commit.

``routes`` (views on the ``tickets`` blueprint), ``reader`` (parsing files),
``service`` (jobs, mapping, validation, commit), ``tasks`` (Huey tasks).
"""
