"""Training: courses (see kdcs/training/__init__.py)."""
