"""thmcheck-momentum: heavy-ball and Nesterov momentum as a thmcheck plugin, written against the public
API only (``numeric.api``, ``theorems.spec``, ``kernels.BackendUnavailable`` / ``resolve_backend``).

Entry points (see ``pyproject.toml``): ``thmcheck.theorems`` -> :mod:`thmcheck_momentum.theorems`,
``thmcheck.classes`` -> :mod:`thmcheck_momentum.classes`, ``thmcheck.dynamics`` ->
:mod:`thmcheck_momentum.dynamics`.  Importing this package registers nothing.
"""

__version__ = "0.1.0"
