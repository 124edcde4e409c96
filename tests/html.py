"""A small HTML reader for assertions: elements by id/class/name, their text, form fields.

Tests assert on what a user sees (an element's text, a form's fields) instead of
substrings of the whole body, which a navigation link or a script can satisfy by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text with whitespace collapsed."""
        parts: list[str] = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, id: str | None = None, cls: str | None = None,
                 **attrs: str) -> list[Element]:
        """Descendants (and self) matching every condition given; attrs use _ for -."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        found = []
        for el in self.iter():
            if tag is not None and el.tag != tag:
                continue
            if id is not None and el.attrs.get("id") != id:
                continue
            if cls is not None and cls not in el.classes:
                continue
            if any(el.attrs.get(k) != v for k, v in wanted.items()):
                continue
            found.append(el)
        return found

    def find(self, tag: str | None = None, **conditions) -> Element | None:
        found = self.find_all(tag, **conditions)
        return found[0] if found else None

    def one(self, tag: str | None = None, **conditions) -> Element:
        found = self.find_all(tag, **conditions)
        assert len(found) == 1, f"expected one <{tag or '*'} {conditions}>, found {len(found)}"
        return found[0]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {k: (v if v is not None else "") for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html_or_response) -> Element:
    """The document tree of an HTML string or a test response."""
    html = html_or_response
    if hasattr(html_or_response, "get_data"):
        html = html_or_response.get_data(as_text=True)
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.root


def csrf_token(html_or_response) -> str:
    return parse(html_or_response).find("input", name="csrf_token").get("value")


def form_fields(form: Element) -> dict[str, list[Element]]:
    """The named controls of a form (input, select, textarea, button), by name."""
    fields: dict[str, list[Element]] = {}
    for el in form.iter():
        if el.tag in ("input", "select", "textarea", "button") and el.get("name"):
            fields.setdefault(el.get("name"), []).append(el)
    return fields


def options(select: Element) -> list[str]:
    return [o.get("value", o.text) for o in select.find_all("option")]


def texts(root: Element, tag: str | None = None, **conditions) -> list[str]:
    return [el.text for el in root.find_all(tag, **conditions)]
