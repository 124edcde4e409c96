"""Ticket settings for admins: deadline rules, the work calendar page, reason lists, canned replies.

``routes`` (views on the ``tickets`` blueprint), ``forms``, ``service``.
"""
