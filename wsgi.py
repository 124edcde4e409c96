"""WSGI entry point: ``gunicorn wsgi:app`` (Linux) or ``waitress-serve wsgi:app`` (Windows)."""

from kdcs import create_app
from kdcs.gc_tuning import compile_templates, tune_for_serving

app = create_app()
compile_templates(app)  # no worker compiles a template while it serves (kdcs/gc_tuning.py)
tune_for_serving()  # the collector no longer re-scans the app on every request (kdcs/gc_tuning.py)
