"""人均毛利 (gross margin per agent): what each person's work brought in a month — the fees of their
outlets and the overtime they billed — less the fines the company bore for them and their labour
cost, and the labour costs themselves (admins only: salaries). ``rules.py`` holds the arithmetic,
``service.py`` the month's figures and the cost history, ``routes.py`` / ``forms.py`` the pages."""

from flask import Blueprint

bp = Blueprint("margin", __name__, url_prefix="/admin/margin")

from . import routes as _routes  # noqa: E402,F401
