"""The docs' code blocks run as written (issue 19): every ```sh and ```python block of the
pages in PAGES is extracted and run, next to a running ``streamlite run`` (its data in
``./data`` of a scratch directory, as after ``make run``) and a ``streamlite server``,
with the ports and paths substituted; a block that fails fails this test.

What a block may say about itself, in HTML comments right above it (invisible on GitHub):

* ``<!-- docs-test: skip: REASON -->``: not run (a remote host, a whole test suite...);
* ``<!-- docs-test: until-stopped -->``: a command that serves until Ctrl-C: it must
  still be running after a few seconds, then stop cleanly on SIGINT;
* ``<!-- docs-test: replace: OLD => NEW -->``: a substitution (smaller sizes), repeatable;
* ``<!-- docs-test: pytest -->``: a test file: run by pytest, its tests must pass.

Always substituted: ``8080`` (the application) and ``6379`` (the server) by the ports of
the running ones (and ``$STREAMLITE_URL`` is the server: the CLI's default), ``.venv/bin/`` by this interpreter's directory, ``bench/`` by the
repository's; ``curl -s`` becomes ``curl -sSf`` so an HTTP error fails the block.
Blocks run in page order, in one scratch directory, so one block may use what the one
before it made (as a reader would).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.redis_proc import free_port, start_streamlite

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", "docs/app.md", "docs/embedded.md", "docs/framework.md", "docs/server.md",
         "docs/growing.md", "docs/persistence.md", "docs/architecture.md", "docs/benchmarks.md"]
BIN = os.path.dirname(sys.executable)


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    skip: str | None = None
    until_stopped: bool = False
    pytest: bool = False
    replace: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")


def blocks(page: str) -> list[Block]:
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang = m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if lang in ("sh", "python"):
            b = Block(page, i + 1, lang, "\n".join(lines[i + 1:j]) + "\n")
            k = i - 1
            while k >= 0 and _DIRECTIVE.match(lines[k]):
                d = _DIRECTIVE.match(lines[k]).group(1)  # type: ignore[union-attr]
                if d.startswith("skip:"):
                    b.skip = d[5:].strip()
                elif d == "until-stopped":
                    b.until_stopped = True
                elif d == "pytest":
                    b.pytest = True
                elif d.startswith("replace:"):
                    old, _, new = d[8:].partition("=>")
                    b.replace.append((old.strip(), new.strip()))
                else:
                    raise ValueError(f"{page}:{k + 1}: unknown docs-test directive {d!r}")
                k -= 1
            out.append(b)
        i = j + 1
    return out


ALL = [b for p in PAGES for b in blocks(p)]


@dataclass
class Env:
    work: str
    app_port: int
    server_port: int

    def substitute(self, b: Block) -> str:
        code = b.code
        for old, new in b.replace:
            assert old in code, f"{b.id}: replace: {old!r} is not in the block"
            code = code.replace(old, new)
        code = code.replace(".venv/bin/", BIN + "/")
        code = re.sub(r"(?<![\w/.])bench/", str(ROOT / "bench") + "/", code)
        code = code.replace("8080", str(self.app_port)).replace("6379", str(self.server_port))
        code = code.replace("curl -s ", "curl -sSf ")
        return code

    def env(self) -> dict[str, str]:
        e = dict(os.environ)
        e["PATH"] = BIN + os.pathsep + e.get("PATH", "")
        e["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + str(ROOT)
        # the CLI's default server (localhost:6379) is the running one
        e["STREAMLITE_URL"] = f"redis://127.0.0.1:{self.server_port}/0"
        return e


@pytest.fixture(scope="module")
def docs_env() -> Iterator[Env]:
    work = tempfile.mkdtemp(prefix="streamlite-docs-")
    srv = start_streamlite()
    port = free_port()
    env = Env(work, port, srv.port)
    app_env = env.env()
    app_env.pop("STREAMLITE_URL")  # make run: the embedded engine in ./data
    app = subprocess.Popen([sys.executable, "-m", "streamlite", "run", "--port", str(port)],
                           cwd=work, env=app_env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    assert app.stdout is not None
    for line in app.stdout:
        if line.startswith("Ctrl-C stops"):
            break
    else:
        raise RuntimeError("streamlite run did not start")
    time.sleep(3)  # a few demo orders
    try:
        yield env
    finally:
        app.send_signal(signal.SIGINT)
        try:
            app.wait(60)
        except subprocess.TimeoutExpired:
            app.kill()
        srv.cleanup()
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_doc_block_runs(block: Block, docs_env: Env) -> None:
    if block.skip:
        pytest.skip(block.skip)
    code = docs_env.substitute(block)
    if block.lang == "python":
        name = f"test_block_{block.line}.py" if block.pytest else f"block_{block.line}.py"
        path = os.path.join(docs_env.work, name)
        Path(path).write_text(code, encoding="utf-8")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path] \
            if block.pytest else [sys.executable, path]
    else:
        cmd = ["bash", "-e", "-o", "pipefail", "-c", code]
    if block.until_stopped:
        p = subprocess.Popen(cmd, cwd=docs_env.work, env=docs_env.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        time.sleep(6)
        alive = p.poll() is None
        os.killpg(p.pid, signal.SIGINT)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        assert alive, f"{block.id} exited early ({p.returncode}):\n{out[-2000:]}\n{err[-3000:]}"
        assert p.returncode in (0, -signal.SIGINT, 130), f"{block.id}: {err[-3000:]}"
        return
    r = subprocess.run(cmd, cwd=docs_env.work, env=docs_env.env(), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, (f"{block.id} failed ({r.returncode}):\n{code}\n"
                               f"--- stdout\n{r.stdout[-2000:]}\n--- stderr\n{r.stderr[-3000:]}")


def test_directives_parse() -> None:
    """Every page's directives are known ones (a typo would silently run a block)."""
    for p in ["README.md", *sorted(str(x.relative_to(ROOT)) for x in (ROOT / "docs").glob("*.md"))]:
        blocks(p)
