"""Training: quiz (see kdcs/training/__init__.py)."""
