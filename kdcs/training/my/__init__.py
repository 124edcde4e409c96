"""我的培训 (see kdcs/training/__init__.py)."""
