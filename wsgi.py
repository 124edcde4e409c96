"""WSGI entry point: ``gunicorn wsgi:app`` (Linux) or ``waitress-serve wsgi:app`` (Windows)."""

from kdcs import create_app

app = create_app()
