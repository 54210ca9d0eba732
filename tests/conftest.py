"""Test-suite wide settings."""

import os

# `thmcheck verify` defaults to one worker process per core; the framework's own tests run it
# serially in-process unless a test asks for workers explicitly (tests/test_distributed.py).
os.environ.setdefault("THMCHECK_WORKERS", "1")
