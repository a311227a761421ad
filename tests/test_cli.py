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


def test_server_options_are_every_word_after_it():
    """``streamlite.cli.main`` hands ``server``'s words to ``server.cli.serve`` without
    parsing: the parser would give the same options, whatever they look like."""
    for opts in ([], ["--port", "0", "--save", ""], ["-h"], ["--help"], ["-v"],
                 ["./my.conf", "--port", "1"], ["--", "x", "--"], ["-", "--dir", "-x"],
                 ["--port=1", "a=b", "--bind", "::1", "-1"], ["@file", ""]):
        for parser in (build_parser(), build_parser("server")):
            args, extra = parser.parse_known_args(["server", *opts])
            assert args.options == opts and extra == []


def test_server_starts_without_argparse():
    code = ("import sys; from streamlite.cli import main; main(['server', '--help']); "
            "print('argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.splitlines()[-1] == "False"


def test_server_start_imports_no_module_loaded_on_first_use():
    """What the server imports to start leaves out the modules its code imports where
    they are used (long double arithmetic, ACL password hashes, private socket dirs,
    the greenlets of script commands)."""
    lazy = ("fractions", "decimal", "hashlib", "hmac", "tempfile", "shutil", "greenlet",
            "encodings.idna", "ipaddress", "dataclasses", "concurrent.futures.thread")
    code = ("import sys; import streamlite.server.cli, streamlite.server.app; "
            # binding 127.0.0.1 and a local client's protected-mode check, as a start does
            "from streamlite.server.prestart import bind_listeners; "
            "from streamlite.server.app import _is_loopback; "
            "[s.close() for s in bind_listeners(['127.0.0.1'], 0, 5, print)[0]]; "
            "assert _is_loopback('127.0.0.1'); "
            f"print(' '.join(m for m in {lazy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.splitlines()[-1] == ""


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
