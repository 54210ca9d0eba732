"""The search engine: budgets, claim evaluation, one experiment's batches, the deterministic search,
the polishing phase, probability and scaling claims, and replays.  It knows no family by name: it
reaches instance classes and dynamics only through :mod:`numeric.registry`."""
