"""The engine's import graph: the engine depends on no front, and commands/ is no library.

The engine is pure (no I/O): the fronts (server/, embedded/), persistence/, the
framework (events/) and the applications (apps/) sit around it and reach it through
``Engine``'s typed seams (``engine.front``, ``engine.persistence`` ...). Command handlers
live in ``engine/commands/``; what they share with the rest of the engine (pub/sub
delivery, MULTI/EXEC execution, client descriptions ...) lives in engine modules, so
no engine module outside ``commands/`` imports it, except ``core.py``'s one
``from . import commands`` that registers every command.

Every import is read from the source with ``ast`` (those inside functions and under
``TYPE_CHECKING`` too), relative ones resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import streamlite

PKG = Path(streamlite.__file__).parent
ENGINE = PKG / "engine"

# packages of streamlite the engine must not depend on
OUTSIDE = ("protocol", "server", "embedded", "persistence", "events", "apps")

# the one import of engine.commands outside it: core.py's registration trigger
TRIGGER = ("streamlite.engine.core", "streamlite.engine.commands")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``; ``from a import b`` yields
    ``a`` and ``a.b`` (``b`` may be a submodule)."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out.extend((node.lineno, f"{target}.{a.name}") for a in node.names)
    return out


def engine_modules() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def within(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def test_resolves_relative_imports() -> None:
    """The resolver itself: a relative import of a front from commands/ is seen."""
    core = imported(ENGINE / "core.py")
    assert any(t == "streamlite.engine.registry" for _, t in core)
    got = {t for _, t in imported(ENGINE / "commands" / "__init__.py")}
    assert "streamlite.engine.registry" in got
    assert "streamlite.engine.commands.strings" in got


def test_engine_imports_no_front() -> None:
    bad = []
    for path in engine_modules():
        mod = module_name(path)
        for line, target in imported(path):
            if any(within(target, f"streamlite.{p}") for p in OUTSIDE):
                bad.append(f"{mod}:{line} imports {target}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_commands_is_not_a_library() -> None:
    bad = []
    for path in engine_modules():
        mod = module_name(path)
        if within(mod, "streamlite.engine.commands"):
            continue
        for line, target in imported(path):
            if within(target, "streamlite.engine.commands") and (mod, target) != TRIGGER:
                bad.append(f"{mod}:{line} imports {target}")
    assert not bad, "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("path", [p for p in engine_modules() if p.parent.name == "commands"
                                  and p.name != "__init__.py"], ids=lambda p: p.stem)
def test_commands_register_only_through_the_package(path: Path) -> None:
    """A command module imports no other command module at its bottom to register it:
    ``commands/__init__.py`` lists them all."""
    mod = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bad = []
    for node in tree.body:  # module-level imports only: helpers may be shared inside
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            bad.extend(f"{mod}:{node.lineno} imports .{a.name}" for a in node.names)
    assert not bad, "\n".join(bad)


def registers(path: Path) -> bool:
    """Whether a module declares commands (a ``@command(...)`` decorator)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                f = d.func if isinstance(d, ast.Call) else d
                if isinstance(f, ast.Name) and f.id == "command":
                    return True
    return False


def test_every_command_module_is_listed() -> None:
    """``commands/__init__.py`` names every module that declares commands."""
    init = ast.parse((ENGINE / "commands" / "__init__.py").read_text(encoding="utf-8"))
    listed = {a.name for node in init.body if isinstance(node, ast.ImportFrom)
              and node.level == 1 and node.module is None for a in node.names}
    declaring = {p.stem for p in (ENGINE / "commands").glob("*.py") if registers(p)}
    assert declaring, "no command module found"
    assert declaring - listed == set()
