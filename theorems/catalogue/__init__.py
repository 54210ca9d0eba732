"""Built-in theorem specs, one family per module, registered under the ``thmcheck.theorems`` entry-point group."""
