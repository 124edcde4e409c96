"""Health of the running system: the task worker's heartbeat and ``/healthz``.

* ``tasks.py`` — every task worker process keeps a row in ``worker_heartbeats`` fresh
  (a thread started with the consumer, every ``BEAT_SECONDS``).
* ``service.py`` — the worker's and the database's state, as the admin home page and
  ``/healthz`` show them.
* ``routes.py`` — ``GET /healthz``: JSON for monitoring, no login, nothing else exposed.
"""

from flask import Blueprint

bp = Blueprint("health", __name__)

from . import routes  # noqa: E402,F401
