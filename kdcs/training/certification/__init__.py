"""Training: certification (see kdcs/training/__init__.py)."""
