"""The ``streamlite`` command line: one entry point, subcommands contributed by modules.

Each module in ``SUBCOMMAND_MODULES`` defines ``register(subparsers)``, which adds its
subcommands with ``set_defaults(func=...)``; ``func(args) -> int`` is the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMAND_MODULES = [
    "streamlite.server.cli",  # server, run (until the seed application takes over run)
    "streamlite.events.cli",  # produce, tail, top, dlq, replay, trim
    "streamlite.events.runner",  # worker: an App in N processes
    "streamlite.events.asyncapi",  # docs: the AsyncAPI 3.0 document of an App
    "streamlite.apps.cli",  # the seed application (run)
    "streamlite.migrate",  # migrate: copy keys between any two backends
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="streamlite",
        description="A Redis-Streams-compatible event-streaming platform.",
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"streamlite {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # that part is not built yet
                continue
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
