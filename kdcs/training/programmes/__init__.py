"""Training programmes and assignments (see kdcs/training/__init__.py)."""
