"""thmcheck's composition root: the spec model, the registry, the pipeline, the pytest plugin and
the built-in theorem specs (``theorems.catalogue``).

Importing this package is cheap on purpose (the pytest plugin lives here); import the submodules
you need, e.g. ``from theorems.spec import Theorem, Claim``.
"""

__all__: list[str] = []
