"""Where instance classes and dynamics come from: entry points, the built-ins included.

Two entry-point groups, read once and in a fixed order (sorted by distribution, then entry-point
name), before any spec is validated:

* ``thmcheck.classes`` -- each value is an :class:`~numeric.api.InstanceClass`, an iterable of
  them, or a module with a module-level ``CLASSES`` tuple;
* ``thmcheck.dynamics`` -- likewise :class:`~numeric.api.Dynamics` objects or a module with
  ``DYNAMICS``.

Nothing registers as a side effect of importing a module, so which classes exist never depends on
import order.  A name declared twice is refused (the first registration stays, and the problem names
both providers); an entry point that fails to load becomes a one-line problem naming it, and every
other plugin still loads.  :func:`register_class` and :func:`register_dynamics` add objects directly
(tests, notebooks).
"""

from __future__ import annotations

import threading
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Iterator, Mapping

from .api import Dynamics, InstanceClass

__all__ = [
    "CLASS_GROUP",
    "DYNAMICS_GROUP",
    "CLASSES",
    "DYNAMICS",
    "register_class",
    "register_dynamics",
    "load_plugins",
    "plugin_problems",
    "provider",
    "get_class",
    "get_dynamics",
]

CLASS_GROUP = "thmcheck.classes"
DYNAMICS_GROUP = "thmcheck.dynamics"

_classes: dict[str, InstanceClass] = {}
_dynamics: dict[str, Dynamics] = {}
_providers: dict[tuple[str, str], str] = {}  # (kind, name) -> "dist x.y (entry point e)"
_problems: list[str] = []
_loaded = False
_lock = threading.RLock()


def _add(kind: str, table: dict[str, Any], obj: Any, source: str) -> None:
    name = obj.name
    if name in table:
        if table[name] is obj:
            return
        if _providers[(kind, name)] == source and not source.startswith("thmcheck "):
            # The same file registering again (a spec file imported by pytest and by the CLI): its
            # newer definition replaces its own older one.  Never another provider's.
            table[name] = obj
            return
        _problems.append(f"{kind} {name!r} from {source} refused: already provided by {_providers[(kind, name)]}")
        return
    table[name] = obj
    _providers[(kind, name)] = source


def _caller() -> str:
    """The file that called a register function (two frames up), as the default provider."""
    import sys  # noqa: PLC0415

    frame = sys._getframe(2)  # noqa: SLF001 - the caller of register_*
    return f"file {frame.f_code.co_filename}"


def register_class(cls: InstanceClass, *, source: str | None = None) -> InstanceClass:
    """Make ``cls`` available to structural hypotheses under ``cls.name`` (entry points come first:
    :func:`load_plugins` runs before).  A name another provider (by default: another file) already
    took is refused and recorded in :func:`plugin_problems`; the same file registering again replaces
    its own earlier definition."""
    if not isinstance(cls, InstanceClass):
        raise TypeError(f"register_class needs a numeric.api.InstanceClass, got {type(cls).__name__}")
    load_plugins()
    with _lock:
        _add("instance class", _classes, cls, source or _caller())
    return cls


def register_dynamics(dyn: Dynamics, *, source: str | None = None) -> Dynamics:
    """Make ``dyn`` available to theorem specs under ``dyn.name`` (refused or replaced like
    :func:`register_class`)."""
    if not isinstance(dyn, Dynamics):
        raise TypeError(f"register_dynamics needs a numeric.api.Dynamics, got {type(dyn).__name__}")
    load_plugins()
    with _lock:
        _add("dynamics", _dynamics, dyn, source or _caller())
    return dyn


def _describe(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    who = f"{dist.metadata['Name']} {dist.version}" if dist is not None else "unknown distribution"
    return f"{who} (entry point {ep.group}:{ep.name} = {ep.value})"


def _objects(loaded: Any, attr: str, want: type) -> list[Any]:
    if isinstance(loaded, ModuleType):
        if not hasattr(loaded, attr):
            raise TypeError(f"module {loaded.__name__} has no {attr} tuple")
        loaded = getattr(loaded, attr)
    items = [loaded] if isinstance(loaded, want) else list(loaded)
    for i, item in enumerate(items):
        if not isinstance(item, want):
            raise TypeError(f"{attr}[{i}] is a {type(item).__name__}, not a numeric.api.{want.__name__}")
    return items


def _sorted_entry_points(group: str) -> list[EntryPoint]:
    def key(ep: EntryPoint) -> tuple[str, str]:
        dist = getattr(ep, "dist", None)
        return (dist.metadata["Name"] if dist is not None else "", ep.name)

    # Built-ins first (distribution "thmcheck"), so a plugin can never take a built-in's name.
    return sorted(entry_points(group=group), key=lambda ep: (key(ep)[0] != "thmcheck", key(ep)))


def load_plugins() -> list[str]:
    """Load every class and dynamics entry point (once); returns the problems met so far."""
    global _loaded
    with _lock:
        if _loaded:
            return list(_problems)
        _loaded = True
        for group, attr, want, reg in ((CLASS_GROUP, "CLASSES", InstanceClass, register_class),
                                       (DYNAMICS_GROUP, "DYNAMICS", Dynamics, register_dynamics)):
            for ep in _sorted_entry_points(group):
                source = _describe(ep)
                try:
                    loaded = ep.load()
                    for obj in _objects(loaded, attr, want):
                        reg(obj, source=source)
                except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal
                    _problems.append(f"plugin {source} failed to load: {type(exc).__name__}: {exc}")
        return list(_problems)


def plugin_problems() -> list[str]:
    """One line per class/dynamics plugin that failed or was refused."""
    load_plugins()
    return list(_problems)


def provider(kind: str, name: str) -> str:
    """Who provided instance class (``kind="instance class"``) or ``"dynamics"`` ``name``."""
    load_plugins()
    return _providers.get((kind, name), "unknown")


class _LazyTable(Mapping[str, Any]):
    """A read-only view of a registry table that loads the entry points on first use."""

    def __init__(self, table: dict[str, Any], kind: str) -> None:
        self._table = table
        self._kind = kind

    def __getitem__(self, name: str) -> Any:
        load_plugins()
        try:
            return self._table[name]
        except KeyError:
            raise KeyError(f"unknown {self._kind} {name!r}; known: {', '.join(sorted(self._table))}") from None

    def __iter__(self) -> Iterator[str]:
        load_plugins()
        return iter(sorted(self._table))

    def __len__(self) -> int:
        load_plugins()
        return len(self._table)


#: Every registered instance class by name (read-only; loads the entry points on first use).
CLASSES: Mapping[str, InstanceClass] = _LazyTable(_classes, "instance class")
#: Every registered dynamics by name (read-only; loads the entry points on first use).
DYNAMICS: Mapping[str, Dynamics] = _LazyTable(_dynamics, "dynamics")


def get_class(name: str) -> InstanceClass:
    """The instance class ``name`` (KeyError listing the known ones)."""
    return CLASSES[name]


def get_dynamics(name: str) -> Dynamics:
    """The dynamics ``name`` (KeyError listing the known ones)."""
    return DYNAMICS[name]
