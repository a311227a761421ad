"""The ``streamlite`` command line: one entry point, subcommands contributed by modules.

Each module in ``SUBCOMMAND_MODULES`` defines ``register(subparsers)``, which adds its
subcommands with ``set_defaults(func=...)``; ``func(args) -> int`` is the exit code.

``SUBCOMMANDS`` says which module registers which subcommand, so that
``streamlite server ...`` imports the server's module alone (the others import
redis-py, the events framework and the applications: 0.1 s or more before a server
could listen); ``streamlite``, ``streamlite --help`` and an unknown subcommand
build the whole parser (``tests/test_cli.py`` keeps the table true).
``streamlite server`` takes every word after it as its options (its parser parses
nothing: redis-server's ``--name value`` pairs are read by ``server.cli``), so it
does not build a parser at all: argparse, and the gettext, locale and shutil it
brings, are 3-5 ms of each server start.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

SUBCOMMAND_MODULES = [
    "streamlite.server.cli",  # server, run (until the seed application takes over run)
    "streamlite.events.cli",  # produce, tail, top, dlq, replay, trim
    "streamlite.events.runner",  # worker: an App in N processes
    "streamlite.events.asyncapi",  # docs: the AsyncAPI 3.0 document of an App
    "streamlite.apps.cli",  # the seed application (run)
    "streamlite.migrate",  # migrate: copy keys between any two backends
]

# subcommand -> the module in SUBCOMMAND_MODULES that registers it
SUBCOMMANDS = {
    "server": "streamlite.server.cli",
    **dict.fromkeys(("produce", "tail", "top", "dlq", "replay", "trim"),
                    "streamlite.events.cli"),
    "worker": "streamlite.events.runner",
    "docs": "streamlite.events.asyncapi",
    **dict.fromkeys(("run", "dashboard", "load"), "streamlite.apps.cli"),
    "migrate": "streamlite.migrate",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or with ``command`` (a key of ``SUBCOMMANDS``)
    the parser of that one alone: the same parse of a command line naming it."""
    import argparse

    p = argparse.ArgumentParser(
        prog="streamlite",
        description="A Redis-Streams-compatible event-streaming platform.",
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"streamlite {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in [SUBCOMMANDS[command]] if command is not None else SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # that part is not built yet
                continue
            raise
        mod.register(sub)
    return p


def _deepest(parser: argparse.ArgumentParser,
             args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser ``args`` were parsed by last: ``run`` for ``streamlite run ...``,
    ``dlq redrive`` for ``streamlite dlq redrive ...``."""
    import argparse

    while True:
        sub = next((a for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction)), None)
        chosen = getattr(args, sub.dest, None) if sub is not None and sub.dest else None
        if sub is None or chosen not in sub.choices:
            return parser
        parser = sub.choices[chosen]


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words and words[0] == "server":  # the parse would be options = words[1:]
        from .server.cli import serve

        return int(serve(list(words[1:])) or 0)
    # only the module of the subcommand named first (no top-level option comes before
    # it but --version and --help, which need the whole parser anyway)
    parser = build_parser(words[0] if words and words[0] in SUBCOMMANDS else None)
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported with the usage of the subcommand they were given to
        _deepest(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
