"""Reading the portal's HTML in tests (standard library only): the controls of a form, the
text of elements found by an attribute, the first heading."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"input", "br", "img", "meta", "link", "hr", "area", "base", "col", "source", "wbr"}


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    """The parsed page: every form control (with the id of its form) and element texts."""

    controls: list[tuple[str | None, Control]] = field(default_factory=list)
    texts: list[tuple[dict[str, str], str]] = field(default_factory=list)
    _open: list[tuple[str, dict[str, str], list[str]]] = field(default_factory=list)
    _form: str | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = values.get("id", "")
        if tag in ("input", "button", "textarea", "select"):
            self.controls.append((self._form, Control(tag, values)))
        if tag not in _VOID:
            self._open.append((tag, values, []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        while self._open:
            name, attrs, parts = self._open.pop()
            text = " ".join(" ".join(parts).split())
            self.texts.append((attrs | {"_tag": name}, text))
            if self._open:
                self._open[-1][2].append(text)
            if name in ("button", "textarea"):
                for _, control in reversed(self.controls):
                    if control.tag == name and not control.text:
                        control.text = text
                        break
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def form(self, form_id: str) -> list[Control]:
        return [c for f, c in self.controls if f == form_id]

    def find(self, **attrs: str) -> list[str]:
        """Texts of the elements having every attribute given (``_tag`` for the tag)."""
        return [text for a, text in self.texts
                if all(a.get(k.replace("_", "-") if k != "_tag" else k) == v
                       for k, v in attrs.items())]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page
