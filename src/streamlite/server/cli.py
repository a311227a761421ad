"""``streamlite server``: start the Redis-protocol server.

Arguments follow ``redis-server``: an optional config file (redis.conf format)
first, then ``--<config-name> value ...`` pairs, applied after the file::

    streamlite server --port 6380 --requirepass secret --appendonly yes
    streamlite server ./streamlite.conf --maxmemory 100mb --save ""

Every name ``CONFIG GET`` knows is accepted. Defaults differ from redis-server's in
two ways: ``bind`` is 127.0.0.1 and ``dbfilename`` is ``dump.sldb`` (the snapshot is
streamlite's own format, not RDB).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from ..engine.core import Engine

USAGE = """\
usage: streamlite server [config-file] [--<config-name> value ...]

Start the Redis-protocol server. Like redis-server: an optional redis.conf-style
file first, then any config name CONFIG GET knows as --name value (applied after
the file). Defaults: 127.0.0.1:6379, data in the current directory.
"""

HELP_OPTIONS = """\
common options (any config name works, as with redis-server):
  --port N               TCP port (default 6379; 0 picks a free one)
  --bind ADDR [ADDR ..]  addresses to listen on (default 127.0.0.1)
  --dir PATH             data directory (AOF, snapshots; default: current directory),
                         created if missing; refused while another process holds it
  --requirepass PASS     password clients must AUTH with
  --appendonly yes|no    append-only file (default no)
  --appendfsync always|everysec|no
  --save "SECS CHANGES .."  snapshot save points ("" disables)
  --maxmemory BYTES      e.g. 100mb; writes are refused above it
  --maxclients N         (default 10000)
  --loglevel debug|verbose|notice|warning
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    import argparse

    for name, what in (("server", "run the Redis-protocol server"),):
        p = sub.add_parser(
            name, help=what, description=f"streamlite {name}: {what}.",
            epilog=HELP_OPTIONS, formatter_class=argparse.RawDescriptionHelpFormatter,
            prefix_chars="\0",  # every --option is a config name: parsed by us
        )
        p.add_argument("options", nargs=argparse.REMAINDER,
                       help="[config-file] [--name value ...]")
        p.set_defaults(func=main)


def split_options(argv: list[str]) -> tuple[str | None, list[list[str]]]:
    """``[file] --a 1 --b x y`` -> (file, [["a", "1"], ["b", "x", "y"]]), as redis-server."""
    config_file = None
    j = 0
    if argv and not argv[0].startswith("--"):
        config_file = argv[0]
        j = 1
    lines: list[list[str]] = []
    while j < len(argv):
        a = argv[j]
        if a.startswith("--"):
            words = a[2:].split()
            if not words:
                raise ValueError(f"invalid option {a!r}")
            lines.append(words)
            nxt = argv[j + 1] if j + 1 < len(argv) else None
            if words[0].lower() == "save" and len(words) == 1 and (nxt is None or nxt.startswith("--")):
                lines[-1].append("")  # `--save` alone means no save points
        else:
            if not lines:
                raise ValueError(f"unexpected argument {a!r}")
            lines[-1].append(a)
        j += 1
    return config_file, lines


def read_config_file(path: str) -> list[list[str]]:
    """The directives of a redis.conf file (comments and blanks skipped)."""
    from ..splitargs import split_args

    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    out: list[list[str]] = []
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r\n")
        if not line or line.startswith("#"):
            out.append([])
            continue
        args = split_args(line.encode("utf-8", "surrogateescape"))
        if args is None:
            raise ConfigFileError(n, line, "Unbalanced quotes in configuration line")
        out.append([a.decode("utf-8", "surrogateescape") for a in args])
    return out


class ConfigFileError(Exception):
    def __init__(self, line_no: int | None, line: str, msg: str) -> None:
        super().__init__(msg)
        self.line_no = line_no
        self.line = line
        self.msg = msg


def build_engine(options: list[str]) -> tuple[Engine, str | None]:
    """An engine configured from a config file and ``--name value`` options."""
    import streamlite

    from ..engine import config as cfgmod
    from ..engine.core import Engine

    config_file, opt_lines = split_options(options)
    file_lines = read_config_file(config_file) if config_file else []
    lines = file_lines + opt_lines
    # databases must be known before the engine exists
    dbs = 16
    for ln in lines:
        if len(ln) == 2 and ln[0].lower() == "databases":
            try:
                dbs = int(ln[1])
            except ValueError:
                pass
    engine = Engine(databases=max(1, dbs))
    _create_dirs(lines)
    user_lines = _take_user_lines(lines, len(file_lines))
    try:
        cfgmod.load_lines(engine, lines)
    except cfgmod.ConfigError as e:
        idx, msg = e.args
        if idx < len(file_lines):
            raise ConfigFileError(idx + 1, " ".join(lines[idx]), msg)
        raise ConfigFileError(None, " ".join(lines[idx]), msg)
    _load_users(engine, user_lines)
    _ = streamlite
    return engine, config_file


def _take_user_lines(lines: list[list[str]], n_file: int) -> list[list[bytes]]:
    """Take the ``user <name> rules...`` directives out of ``lines`` (they are ACL
    users, not config names), checked as Redis checks them while reading the file."""
    from ..engine.acl import check_config_user

    users: list[list[bytes]] = []
    seen: set[bytes] = set()
    for i, ln in enumerate(lines):
        if len(ln) >= 2 and ln[0].lower() == "user":
            argv = [a.encode("utf-8", "surrogateescape") for a in ln]
            err = check_config_user(argv, seen)
            if err is not None:
                raise ConfigFileError(i + 1 if i < n_file else None, " ".join(ln), err)
            users.append(argv)
            lines[i] = []
    return users


class AclStartupError(ValueError):
    """Users cannot be loaded at startup (Redis logs the reason and exits)."""


def _load_users(engine: Engine, user_lines: list[list[bytes]]) -> None:
    """Redis's ``ACLLoadUsersAtStartup``: config ``user`` lines or the ``aclfile``,
    never both."""
    acl = engine.acl
    aclfile = engine.config.get("aclfile") or ""
    if aclfile and user_lines:
        raise AclStartupError(
            "Configuring Redis with users defined in redis.conf and at the same setting an "
            "ACL file path is invalid. This setup is very likely to lead to configuration "
            "errors and security holes, please define either an ACL file or declare users "
            "directly in your redis.conf, but not both.")
    acl.sync()
    if user_lines:
        from ..engine.acl import AclError

        try:
            acl.load_config_users(user_lines)
        except AclError as e:
            raise AclStartupError(f"Error loading ACL rules: {e.msg}. Critical error while "
                                  "loading ACLs. Exiting.")
    if aclfile:
        err = acl.load_file(aclfile)
        if err is not None:
            raise AclStartupError(f"Aborting Redis startup because of ACL errors: {err}")


def _create_dirs(lines: list[list[str]]) -> None:
    """``dir`` must exist for the config to accept it (as in Redis): a data directory
    given at startup is created instead (``--dir ./data`` on a fresh checkout)."""
    import os

    for ln in lines:
        if len(ln) == 2 and ln[0].lower() == "dir" and ln[1]:
            try:
                os.makedirs(ln[1], exist_ok=True)
            except OSError:
                pass  # the config check reports it


def main(args: argparse.Namespace) -> int:
    return serve(list(args.options or []))


def _peek_load(options: list[str], peek: Callable[[list[list[str]]], int]) -> int:
    """``headstart.peek`` of the command line's config (0 when it cannot be read here:
    the configuration reports why, later)."""
    try:
        config_file, lines = split_options(options)
        if config_file == "-":
            return 0  # standard input is the configuration's to read
        return peek((read_config_file(config_file) if config_file else []) + lines)
    except (OSError, ValueError, ConfigFileError):
        return 0


def serve(options: list[str]) -> int:
    """``streamlite server <options>``: what ``main`` does with the parsed command line
    (``streamlite.cli`` calls it directly: the subcommand takes every word after it)."""
    import streamlite

    if options and options[0] in ("-h", "--help"):
        print(USAGE)
        print(HELP_OPTIONS)
        return 0
    if options and options[0] in ("-v", "--version"):
        print(f"streamlite {streamlite.__version__} (Redis {streamlite.REDIS_VERSION} semantics)")
        return 0
    # the thread the data will load in starts first: it faults in the memory the load
    # will take while the engine is imported (``headstart``)
    from .headstart import LoadThread, peek

    loader = LoadThread(_peek_load(options, peek))
    try:
        engine, config_file = _import_and_configure(options)
    except BaseException:
        loader.cancel()
        raise
    if engine is None:
        loader.cancel()
        return 1
    # locked, listening and loading: the load runs while the rest of the server (asyncio,
    # uvloop, connections) is imported (``prestart``), the collector off until it ends
    gc.disable()
    from .prestart import prestart

    pre = prestart(engine, catch_signals=True, loader=loader)
    pre.gc_after_load = True
    from .app import run_server

    return run_server(engine, config_file, pre=pre)


def _import_and_configure(options: list[str]) -> tuple[Engine | None, str | None]:
    """The engine's imports, then the engine the options configure (None, after saying
    why on stderr, when they are wrong)."""
    import streamlite

    # the imports allocate what lives as long as the process (modules, functions,
    # classes): the collector walked it 60 times during them (10 ms of a start), and
    # every full collection after would again; frozen, no collection looks at it
    gc.disable()
    try:
        from . import prestart  # noqa: F401  (the engine and persistence)
    finally:
        gc.freeze()
        gc.enable()
    try:
        return build_engine(options)
    except ConfigFileError as e:
        print(f"\n*** FATAL CONFIG FILE ERROR (streamlite {streamlite.__version__}) ***",
              file=sys.stderr)
        if e.line_no is not None:
            print(f"Reading the configuration file, at line {e.line_no}", file=sys.stderr)
        print(f">>> '{e.line}'", file=sys.stderr)
        print(e.msg, file=sys.stderr)
    except (OSError, ValueError) as e:
        print(f"streamlite server: {e}", file=sys.stderr)
    return None, None
