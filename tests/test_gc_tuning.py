"""The serving process freezes what start-up built and collects less often (kdcs/gc_tuning.py)."""

from __future__ import annotations

import gc

from kdcs.gc_tuning import SERVING_THRESHOLDS, compile_templates, tune_for_serving


def test_tune_for_serving_freezes_and_raises_thresholds():
    before = gc.get_threshold()
    try:
        tune_for_serving()
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert SERVING_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_wsgi_entry_point_tunes_the_collector():
    import pathlib

    source = (pathlib.Path(__file__).resolve().parent.parent / "wsgi.py").read_text()
    assert "tune_for_serving()" in source


def test_compile_templates_fills_the_template_cache(app):
    """Every page template is in Jinja's cache before the first request asks for it."""
    from pathlib import Path

    app.jinja_env.cache.clear()
    count = compile_templates(app)
    on_disk = len(list((Path(app.root_path) / "templates").rglob("*.html")))
    assert count == on_disk > 100
    assert len(app.jinja_env.cache) == count
    assert app.jinja_env.cache.capacity > count  # none evicted while serving (Jinja's LRU, default 400)


def test_wsgi_entry_point_compiles_templates_first():
    import pathlib

    source = (pathlib.Path(__file__).resolve().parent.parent / "wsgi.py").read_text()
    assert source.index("compile_templates(app)") < source.index("tune_for_serving()")
