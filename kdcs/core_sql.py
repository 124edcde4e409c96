"""Running a prebuilt Core statement on the hot paths without the ORM's execute step.

A prebuilt statement (built once per process, every value a bind parameter) is also compiled
once per process and parameter names: ``Connection.execute`` would look its compiled form up in
the engine's statement cache on every run, hashing the statement's whole cache key (a tuple of
hundreds of parts for a queue page) to find what it found the time before. ``execute`` keeps
the compiled form beside the statement itself and hands it to SQLAlchemy's execution step
directly: the same compiled SQL, the same parameter processing, result and cursor events
(``before_cursor_execute`` still sees every statement). A connection or engine with
``before_execute``/``after_execute`` listeners, execution options that change compilation, or
a dialect without statement caching take ``Connection.execute`` as before.
``tests/test_core_sql.py`` runs both ways and compares.
"""

from __future__ import annotations

from sqlalchemy.sql import compiler

from .extensions import db

# (id(statement), id(dialect), parameter names) -> (statement, compiled, extracted params, param dict).
# The entry holds the statement, so its id cannot be reused by another object while it is kept.
_COMPILED: dict[tuple, tuple] = {}
# Prebuilt statements are a few hundred per process; a caller passing statements built per call
# would otherwise grow the dict: it is emptied when it reaches this.
COMPILED_LIMIT = 2000


def execute(statement, params: dict):
    """``statement`` on the session's connection (same transaction, no ORM compile/execute step),
    unless the session holds changes not flushed yet: then through the session, which flushes them
    first, so the statement sees them as ``db.session.execute`` would."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        return session.execute(statement, params)
    return run_compiled(session.connection(), statement, params)


def run_compiled(connection, statement, params: dict):
    """``connection.execute(statement, params)`` with the statement's compiled form kept per
    process (see the module's docstring); the same result."""
    dispatch = connection.dispatch
    if dispatch.before_execute or dispatch.after_execute:
        return connection.execute(statement, params)
    options = statement._execution_options.merge_with(connection._execution_options)
    if options and ("schema_translate_map" in options or "compiled_cache" in options or "yield_per" in options):
        return connection.execute(statement, params)
    dialect = connection.dialect
    names = tuple(sorted(params))
    key = (id(statement), id(dialect), names)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not statement:
        compiled, extracted, param_dict, _ = statement._compile_w_cache(
            dialect=dialect, compiled_cache=connection.engine._compiled_cache, column_keys=list(names),
            for_executemany=False, schema_translate_map=None,
            linting=dialect.compiler_linting | compiler.WARN_LINTING)
        if extracted is None:  # no cache key (a dialect or construct without statement caching)
            return connection.execute(statement, params)
        if len(_COMPILED) >= COMPILED_LIMIT:
            _COMPILED.clear()
        entry = _COMPILED[key] = (statement, compiled, extracted, param_dict)
    _, compiled, extracted, param_dict = entry
    distilled = [params]
    return connection._execute_context(
        dialect, dialect.execution_ctx_cls._init_compiled, compiled, distilled, options,
        compiled, distilled, statement, extracted, cache_hit=dialect.CACHE_HIT, param_dict=param_dict)
