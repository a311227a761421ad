"""The ``streamlite`` entry point: the subcommand table matches what the modules
register, and ``streamlite server`` imports no other subcommand's module."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from streamlite.cli import SUBCOMMAND_MODULES, SUBCOMMANDS, build_parser


def _registered(module: str) -> list[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(sub)
    return list(sub.choices)


def test_subcommand_table_matches_the_modules():
    table = {name: module for module in SUBCOMMAND_MODULES for name in _registered(module)}
    assert table == SUBCOMMANDS
    assert sorted(set(SUBCOMMANDS.values())) == sorted(SUBCOMMAND_MODULES)


def test_one_subcommand_parses_as_the_whole_parser():
    argv = ["server", "--port", "0", "--save", ""]
    whole = build_parser().parse_known_args(argv)
    alone = build_parser("server").parse_known_args(argv)
    assert vars(whole[0]) == vars(alone[0]) and whole[1] == alone[1]
    sub = next(a for a in build_parser("server")._actions if a.dest == "command")
    assert list(sub.choices) == ["server"]


def test_server_help_imports_no_other_subcommand_module():
    code = ("import sys; from streamlite.cli import main; main(['server', '--help']); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(("
            "'streamlite.events', 'streamlite.apps', 'streamlite.migrate', 'redis', "
            "'streamlite.embedded')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.splitlines()[-1] == ""


def test_top_level_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "streamlite", "--help"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    for name in SUBCOMMANDS:
        assert name in out
