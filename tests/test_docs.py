"""Docs generated from code stay in step with it, and the framework guide's examples run."""

import os
import re
import subprocess
import sys
from pathlib import Path

from streamlite.engine.docgen import render

ROOT = Path(__file__).resolve().parent.parent


def test_commands_md_is_up_to_date():
    path = ROOT / "docs" / "commands.md"
    assert path.read_text() == render(), (
        "docs/commands.md is stale: run `python -m streamlite.engine.docgen > docs/commands.md`"
    )


# a python block of docs/framework.md whose first line names an example_*.py or test_*.py
# file: a complete program (example_*) or a pytest module (test_*); written side by side,
# so tests import the examples as the guide's readers would
EXAMPLE = re.compile(r"```python\n# ((?:example|test)_\w+\.py)\n(.*?)```", re.S)


def framework_examples() -> dict[str, str]:
    text = (ROOT / "docs" / "framework.md").read_text()
    return {m.group(1): m.group(2) for m in EXAMPLE.finditer(text)}


def test_framework_guide_examples_run(tmp_path):
    files = framework_examples()
    assert {"example_billing.py", "test_billing.py", "example_testing.py",
            "example_middleware.py", "example_di.py"} <= set(files)
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT / "src"),
                                         env.get("PYTHONPATH", "")])
    for name in sorted(files):
        if name.startswith("example_"):
            p = subprocess.run([sys.executable, name], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, f"{name}:\n{p.stdout}{p.stderr}"
    tests = sorted(n for n in files if n.startswith("test_"))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        *tests], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{2} passed" in p.stdout, p.stdout
