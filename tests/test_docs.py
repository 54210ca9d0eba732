"""The documentation under docs/ stays true: the API reference is what docs/build_api.py generates
now, and the runnable examples of the guides run.

Convention in the guides (docs/*.md): a fenced ```python block whose first line is

* ``# file: NAME.py`` is written to NAME.py in a scratch folder (blocks from every guide share it);
* ``# run:`` is part of that guide's script: its run blocks, in order, are executed as one Python
  script in a fresh process whose working folder is the scratch folder.

Other blocks are illustrations (they were checked by hand when written).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = ("writing-a-theorem.md", "writing-an-instance-class.md", "writing-a-dynamics.md")
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
TIMEOUT_S = 60  # per guide; together they take about 15 s on two shared cores


def _blocks(name: str) -> list[str]:
    return FENCE.findall((DOCS / name).read_text(encoding="utf-8"))


def _files() -> dict[str, str]:
    out: dict[str, str] = {}
    for guide in GUIDES:
        for block in _blocks(guide):
            first = block.splitlines()[0]
            if first.startswith("# file:"):
                name = first.split(":", 1)[1].strip()
                assert name not in out, f"{guide}: two '# file: {name}' blocks"
                out[name] = block
    return out


def test_api_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("_thmcheck_build_api", DOCS / "build_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (DOCS / "api.md").read_text(encoding="utf-8")
    assert current == module.render(), "docs/api.md is stale: run `python docs/build_api.py` and commit the result"


def test_the_dynamics_guide_has_runnable_blocks() -> None:
    runs = [b for b in _blocks("writing-a-dynamics.md") if b.startswith("# run:")]
    assert runs, "writing-a-dynamics.md has no '# run:' block"


@pytest.mark.parametrize("guide", GUIDES)
def test_runnable_blocks_run(guide: str, tmp_path: Path) -> None:
    runs = [b for b in _blocks(guide) if b.startswith("# run:")]
    if not runs:
        pytest.skip(f"{guide} has no runnable block")
    for name, text in _files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    script = tmp_path / f"_run_{Path(guide).stem.replace('-', '_')}.py"
    script.write_text("\n\n".join(runs), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env)
    assert proc.returncode == 0, f"{guide}: its '# run:' blocks failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
