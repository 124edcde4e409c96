"""Placeholder queue so the navigation link works; the queue UI replaces this file."""

from flask import render_template_string
from flask_login import current_user

from ..extensions import db
from ..permissions import Permission, require
from . import bp, service
from .labels import CATEGORY_LABELS, STATUS_LABELS

_PLACEHOLDER = """{% extends "base.html" %}
{% block heading %}{{ _("Tickets") }}{% endblock %}
{% block content %}<section class="card" id="ticket-table"><table class="data"><tbody>
{% for t in tickets %}<tr><td>{{ t.waybill_no }}</td><td>{{ categories.get(t.category, t.category) }}</td>
<td>{{ statuses.get(t.status, t.status) }}</td><td>{{ t.due_at|default("", true) }}</td></tr>{% endfor %}
</tbody></table></section>{% endblock %}"""


@bp.route("/")
@require(Permission.VIEW_TICKETS)
def index():
    query = service.order_by_deadline(service.visible_tickets_query(current_user).where(service.open_clause()))
    tickets = db.session.scalars(query.limit(50)).all()
    return render_template_string(_PLACEHOLDER, tickets=tickets, categories=CATEGORY_LABELS, statuses=STATUS_LABELS)
