"""Generate docs/api.md from the docstrings of thmcheck's public modules.

Usage: ``python docs/build_api.py`` (rewrites docs/api.md) or ``python docs/build_api.py --check``
(exit 1 when docs/api.md is stale).  ``tests/test_docs.py`` runs the check.

For every name in a module's ``__all__``: classes with their constructor signature, the first
paragraph of their docstring (and its ``Attributes:`` section, if any), enum members and their own
public methods and properties; functions with their signature and first paragraph; constants with
their value and their ``#:`` comment.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"
MODULES = ("numeric.api", "numeric.constants", "numeric.registry", "numeric.exact_membership", "kernels.backend",
           "theorems.spec", "theorems.replay")

HEADER = """# API reference

*Generated from the docstrings by `docs/build_api.py`; do not edit by hand.  After changing a public
docstring or signature, regenerate with `python docs/build_api.py` (`tests/test_docs.py` fails while
this file is stale).*

The modules a plugin or a spec programs against, each with the names of its `__all__`:
"""


def _md(text: str) -> str:
    """Sphinx roles and double backticks -> Markdown."""
    text = re.sub(r":(?:class|func|data|meth|mod|attr|exc):`~?([^`]+)`", lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def _paragraphs(obj: Any) -> list[str]:
    doc = inspect.getdoc(obj) if getattr(obj, "__doc__", None) else None
    return [p.strip() for p in doc.split("\n\n")] if doc else []


def _first(obj: Any) -> str:
    paras = _paragraphs(obj)
    return _md(" ".join(paras[0].split())) if paras else "*(no docstring)*"


def _attributes_section(obj: Any) -> str:
    for p in _paragraphs(obj)[1:]:
        if p.startswith("Attributes:"):
            lines = p.splitlines()[1:]
            items: list[str] = []
            for line in lines:
                m = re.match(r"\s{2,}(\w+):\s*(.*)", line)
                if m and len(line) - len(line.lstrip()) <= 8:
                    items.append(f"- `{m.group(1)}`: {m.group(2).strip()}")
                elif items:
                    items[-1] += " " + line.strip()
            return "\n".join(_md(i) for i in items)
    return ""


def _signature(obj: Any) -> str | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None

    def bare(ann: Any) -> Any:  # annotations are strings (PEP 563): show them unquoted
        return _Bare(ann.strip("'\"")) if isinstance(ann, str) else ann

    sig = sig.replace(parameters=[p.replace(annotation=bare(p.annotation)) for p in sig.parameters.values()],
                      return_annotation=bare(sig.return_annotation))
    return re.sub(r" at 0x[0-9a-f]+", "", str(sig))


class _Bare:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _comments(module: Any) -> dict[str, str]:
    """``#:`` comments written above module-level assignments."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(module).splitlines():
        if line.startswith("#:"):
            pending.append(line[2:].strip())
            continue
        m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=", line)
        if m and pending:
            out[m.group(1)] = " ".join(pending)
        pending = []
    return out


def _is_protocol(obj: Any) -> bool:
    return bool(getattr(obj, "_is_protocol", False))


def _members(cls: type) -> list[str]:
    out = []
    for name, value in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            out.append(f"- `{name}` (property): {_first(value.fget)}")
        elif isinstance(value, (staticmethod, classmethod)):
            fn = value.__func__
            out.append(f"- `{name}{_signature(fn) or '(...)'}`: {_first(fn)}")
        elif inspect.isfunction(value):
            sig = _signature(value) or "(...)"
            out.append(f"- `{name}{sig}`: {_first(value)}")
    return out


def _class(name: str, cls: type) -> list[str]:
    kind = "protocol" if _is_protocol(cls) else "enum" if issubclass(cls, enum.Enum) else \
        "exception" if issubclass(cls, BaseException) else "class"
    lines = [f"### `{name}` ({kind})", ""]
    if kind == "class":
        sig = _signature(cls)
        if sig is not None:
            lines += ["```python", f"{name}{sig}", "```", ""]
    if cls.__module__ not in MODULES:
        lines += [f"Defined in `{cls.__module__}`.", ""]
    lines += [_first(cls), ""]
    attrs = _attributes_section(cls)
    if attrs:
        lines += ["Attributes:", "", attrs, ""]
    if kind == "enum":
        lines += [", ".join(f"`{m.name}` = `{m.value!r}`" for m in cls), ""]
    members = _members(cls) if kind != "enum" else []
    if members:
        lines += members + [""]
    return lines


def _function(name: str, fn: Any) -> list[str]:
    return [f"### `{name}()`", "", "```python", f"{name}{_signature(fn) or '(...)'}", "```", "", _first(fn), ""]


def _constant(name: str, value: Any, comment: str) -> list[str]:
    text = repr(value)
    if len(text) > 300 or " at 0x" in text:
        text = f"<{type(value).__name__}>"
    lines = [f"### `{name}`", "", f"`{name} = {text}`" if "`" not in text else f"`{name}`", ""]
    if comment:
        lines += [_md(comment), ""]
    return lines


def render() -> str:
    """The text of docs/api.md."""
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    out = [HEADER]
    out += [f"- [`{m}`](#{m.replace('.', '')})" for m in MODULES] + [""]
    for modname in MODULES:
        module = importlib.import_module(modname)
        comments = _comments(module)
        out += [f"## {modname}", "", _first(module), ""]
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                out += _class(name, obj)
            elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
                out += _function(name, obj)
            else:
                out += _constant(name, obj, comments.get(name, ""))
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python docs/build_api.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
