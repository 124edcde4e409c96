"""The inline-edit kit: the one way an admin list shows, edits, locks and toggles a row.

A list declares an ``InlineEdit`` (what its rows are, which form edits them,
which service call saves them) and ``register``s it on its blueprint. That
gives three endpoints, the same on every list::

    GET       /<prefix>/<id>/row      the plain row (Cancel; Reload after a conflict)
    GET, POST /<prefix>/<id>/edit     the edit row for htmx, the edit page without JS
    POST      /<prefix>/<id>/active   activate / deactivate (``active`` = "1" / "0")

and, when ``create`` is given, ``POST /<prefix>/new``.

The rules every list then shares:

* the edit form carries the version it was loaded with; a stale, missing or
  malformed version is a 409 with the conflict form: what is stored now,
  beside the user's typed values, ready to resubmit (nothing typed is lost);
* a service ``ValidationError`` puts its messages beside the fields (200);
* a tampered ``active`` value is a 400;
* a plain browser request for the row fragment gets a 303 to the list.

Templates: the list page has a ``{% block <name>_row %}`` rendering one row
from the row context; the edit row, the conflict box and the no-JS edit page
are the kit's own (``_crud/``), so lists do not copy them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, SelectField, SelectMultipleField

from .extensions import db
from .htmx import render, render_fragment, wants_fragment
from .permissions import require
from .service_errors import StaleEdit, ValidationError
from .views import apply_errors, posted_active, redirect_back

EDIT_ROW = "_crud/edit_row.html"
EDIT_PAGE = "_crud/edit_page.html"
HIDDEN_FIELDS = frozenset({"csrf_token", "version"})
REGISTERED: list[InlineEdit] = []  # every registered list (the inline-edit test sweep walks them)


def get_or_404(model, object_id: int):
    """The row with this primary key, or a 404."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def parse_version(raw) -> int | None:
    """The posted optimistic-lock version, or None when it is missing or malformed."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def discard_changes(obj) -> None:
    """After a refused write: forget the session's changes and reload ``obj`` as stored now."""
    db.session.rollback()
    db.session.refresh(obj)


def _noop(*_args) -> None:
    return None


@dataclass
class InlineEdit:
    """One admin list's inline edit: rows, the edit form, save with locking, the toggle."""

    name: str  # "brand": row id ``brand-<id>``, row block ``brand_row``, URL arg ``brand_id``
    model: type
    template: str  # the list page, with ``{% block <row_block> %}``
    list_endpoint: str  # the list page: Cancel without JS, where a toggle returns
    edit_form: type
    save: Callable[[Any, Any, int], Any]  # (obj, form, version); raises ValidationError / StaleEdit
    describe: Callable[[Any], str]  # "品牌 中通": used in messages and the edit page title
    row_context: Callable[[Any], dict] = lambda obj: {}
    prepare_form: Callable[[Any, Any], None] = _noop  # (form, obj or None): choices
    load_form: Callable[[Any, Any], None] = _noop  # (form, obj): GET values beyond obj=
    set_active: Callable[[Any, bool], Any] | None = None  # raises ValidationError to refuse
    saved_url: Callable[[Any], str] | None = None  # no-JS redirect after a save (default: the list)
    colspan: int = 6
    lead_cells: Callable[[Any], list[str]] | None = None  # cells kept left of the edit form
    fields: tuple[str, ...] | None = None  # fields shown in the edit row (default: every visible one)
    fields_template: str | None = None  # an include that lays the fields out itself
    stored: Callable[[Any], list[tuple[str, str]]] | None = None  # (label, value) the conflict box shows
    field_kwargs: dict[str, dict] = field(default_factory=dict)  # extra render arguments per field
    error_aliases: dict[str, str] = field(default_factory=dict)  # service field → form field
    toggle_fragment: Callable[[Any], Any] | None = None  # a different fragment after the toggle
    load: Callable[[int], Any] | None = None  # scoped lookup (None → 404); default get_or_404
    # Creating (optional): the create form sits in ``{% block <name>_create %}`` of the list page.
    create_form: type | None = None
    create: Callable[[Any], Any] | None = None  # (form) → the new object; raises ValidationError
    page: Callable[[Any], Any] | None = None  # (create_form) → the whole list page (no-JS errors)
    created_url: Callable[[Any], str] | None = None
    extra_context: dict = field(default_factory=dict)  # names every kit render of the list needs
    row_block: str = ""  # default ``<name>_row``
    create_block: str = ""  # default ``<name>_create``

    def __post_init__(self) -> None:
        self.row_block = self.row_block or f"{self.name}_row"
        self.create_block = self.create_block or f"{self.name}_create"

    # ------------------------------------------------------------------ wiring

    def register(self, bp, url_prefix: str, permission, endpoint: str | None = None) -> None:
        """Add the row / edit / active (and new) endpoints to ``bp``, each behind ``permission``."""
        endpoint = endpoint or self.name
        id_arg = f"{self.name}_id"
        self._endpoints = {kind: f"{bp.name}.{endpoint}_{kind}" for kind in ("row", "edit", "set_active")}
        self._id_arg = id_arg
        REGISTERED.append(self)

        def row_view(**kwargs):
            obj = self._get(kwargs[id_arg])
            if not wants_fragment():  # the fragment-only rule (htmx.fragment_only), after the 404
                return redirect(url_for(self.list_endpoint), code=303)
            return self.row(obj)

        def edit_view(**kwargs):
            return self.edit(self._get(kwargs[id_arg]))

        def active_view(**kwargs):
            return self.toggle(self._get(kwargs[id_arg]))

        row_view.fragment_only_fallback = self.list_endpoint
        row_view.__doc__ = f"The plain {self.name} row: Cancel in the inline edit, Reload after a conflict."
        edit_view.__doc__ = f"Edit a {self.name} inline (htmx) or on its own page; stale versions answer 409."
        active_view.__doc__ = f"Activate or deactivate a {self.name}; a tampered value is a 400."
        bp.add_url_rule(f"{url_prefix}/<int:{id_arg}>/row", f"{endpoint}_row", require(permission)(row_view))
        bp.add_url_rule(f"{url_prefix}/<int:{id_arg}>/edit", f"{endpoint}_edit", require(permission)(edit_view),
                        methods=["GET", "POST"])
        if self.set_active is not None:
            bp.add_url_rule(f"{url_prefix}/<int:{id_arg}>/active", f"{endpoint}_set_active",
                            require(permission)(active_view), methods=["POST"])
        if self.create is not None:
            def create_view():
                return self.create_view()

            create_view.__doc__ = f"Create a {self.name}: the form again with its errors, or a fresh one."
            bp.add_url_rule(f"{url_prefix}/new", f"{endpoint}_create", require(permission)(create_view),
                            methods=["POST"])

    def _get(self, object_id: int):
        obj = self.load(object_id) if self.load else get_or_404(self.model, object_id)
        if obj is None:
            abort(404)
        return obj

    def dom_id(self, obj) -> str:
        """The id of the row's ``<tr>``, the target of every swap."""
        return f"{self.name}-{obj.id}"

    def url(self, kind: str, obj) -> str:
        """URL of this object's ``row``, ``edit`` or ``set_active`` endpoint."""
        return url_for(self._endpoints[kind], **{self._id_arg: obj.id})

    # ------------------------------------------------------------------ views

    def row(self, obj):
        """The row fragment as the list shows it."""
        return render_fragment(self.template, self.row_block, **self._row_context(obj))

    def edit(self, obj):
        """GET: the edit form. POST: save if the version is current, else the 409 conflict form."""
        if request.method == "GET":
            form = self._form(obj, formdata=None, obj=obj)
            self.load_form(form, obj)
            return self._edit_response(obj, form)
        form = self._form(obj)
        version = parse_version(request.form.get("version"))
        if version is None or version != obj.version:
            return self._conflict(obj, form)
        if form.validate_on_submit():
            try:
                self.save(obj, form, version)
            except (StaleEdit, StaleDataError):
                return self._conflict(obj, form)
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors, self.error_aliases)
            else:
                message = _("%(what)s saved.", what=self.describe(obj))
                if wants_fragment():
                    return render_fragment(self.template, self.row_block, toast=message,
                                           **self._row_context(obj))
                flash(message, "success")
                return redirect(self.saved_url(obj) if self.saved_url else url_for(self.list_endpoint), code=303)
        return self._edit_response(obj, form)

    def toggle(self, obj):
        """Activate or deactivate; the service may refuse with a reason (shown as a toast)."""
        active = posted_active()
        try:
            self.set_active(obj, active)
        except ValidationError as exc:
            db.session.rollback()
            flash(next(iter(exc.errors.values())), "danger")
        else:
            what = self.describe(obj)
            flash(_("%(what)s activated.", what=what) if active else _("%(what)s deactivated.", what=what),
                  "success")
        if wants_fragment():
            alternative = self.toggle_fragment(obj) if self.toggle_fragment else None
            return alternative if alternative is not None else self.row(obj)
        return redirect_back(url_for(self.list_endpoint))

    def create_view(self):
        """Create from the list page's create form (htmx: the form block; no JS: 303 or the page)."""
        form = self.create_form()
        self.prepare_form(form, None)
        if form.validate_on_submit():
            try:
                obj = self.create(form)
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors, self.error_aliases)
            else:
                message = _("%(what)s created.", what=self.describe(obj))
                if wants_fragment():
                    fresh = self.create_form(formdata=None)
                    self.prepare_form(fresh, None)
                    return render_fragment(self.template, self.create_block, create_form=fresh,
                                           toast=message, events=f"{self.name}s-changed", **self._context())
                flash(message, "success")
                return redirect(self.created_url(obj) if self.created_url else url_for(self.list_endpoint),
                                code=303)
        if wants_fragment():
            return render_fragment(self.template, self.create_block, create_form=form, **self._context())
        return self.page(form)

    # ------------------------------------------------------------------ helpers

    def _context(self) -> dict:
        return {"kit": self, **self.extra_context}

    def _row_context(self, obj) -> dict:
        return {**self._context(), **self.row_context(obj)}

    def _form(self, target, **kwargs):
        form = self.edit_form(**kwargs)
        self.prepare_form(form, target)
        return form

    def _visible_fields(self, form) -> list:
        if self.fields:
            return [form[name] for name in self.fields]
        return [f for f in form if f.name not in HIDDEN_FIELDS and f.type not in ("HiddenField", "CSRFTokenField")]

    def _edit_response(self, obj, form, conflict: bool = False):
        context = {
            "kit": self, "obj": obj, "form": form, "fields": self._visible_fields(form),
            "version": obj.version, "conflict": conflict,
            "stored": self._stored_values(obj) if conflict else [],
            "lead_cells": self.lead_cells(obj) if self.lead_cells else [],
        }
        status = 409 if conflict else 200
        if wants_fragment():
            return render_fragment(EDIT_ROW, "edit_row", status=status, **context)
        return render(EDIT_PAGE, status=status, **context)

    def _conflict(self, obj, form):
        """409: the row as stored now beside what the user typed, with the current version."""
        discard_changes(obj)
        return self._edit_response(obj, form, conflict=True)

    def _stored_values(self, obj) -> list[tuple[str, str]]:
        """(label, value as shown) of every edited field, read from the stored row (or ``stored``)."""
        if self.stored is not None:
            return self.stored(obj)
        stored = self._form(obj, formdata=None, obj=obj)
        self.load_form(stored, obj)
        return [(f.label.text, display_value(f)) for f in self._visible_fields(stored)]


def display_value(field) -> str:
    """A form field's current value as a person reads it (choice labels, 是/否)."""
    data = field.data
    if isinstance(field, BooleanField):
        return _("Yes") if data else _("No")
    if isinstance(field, SelectField | SelectMultipleField) and field.choices is not None:
        labels = {str(choice[0]): str(choice[1]) for choice in _flat_choices(field.choices)}
        if isinstance(data, list | tuple):
            return "、".join(labels.get(str(v), str(v)) for v in data) or "—"
        return labels.get(str(data), "—" if data in (None, "", 0) else str(data))
    if data is None or data == "":
        return "—"
    return str(data)


def _flat_choices(choices):
    if isinstance(choices, dict):  # optgroups
        for group in choices.values():
            yield from group
        return
    for choice in choices:
        yield choice if isinstance(choice, tuple | list) else (choice, choice)
