from flask import jsonify

from . import bp, service


@bp.route("/healthz")
def healthz():
    """For monitoring and load balancers, without login: the database's and the task worker's state.

    200 while the database answers (``status`` ``ok``, or ``degraded`` when no worker has
    reported for a minute), 503 when it does not.
    """
    document, serving = service.health_report()
    response = jsonify(document)
    response.status_code = 200 if serving else 503
    response.headers["Cache-Control"] = "no-store"
    return response
