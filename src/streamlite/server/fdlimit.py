"""``maxclients`` against the open-file limit, as Redis's ``adjustOpenFilesLimit``.

Every client is a file descriptor, and the server needs a few more of its own
(listening sockets, the AOF, snapshot and rewrite files, the data directory's
lock, the event loop). Redis keeps ``CONFIG_MIN_RESERVED_FDS`` (32) of them back:
at start, and on ``CONFIG SET maxclients``, it tries to raise ``RLIMIT_NOFILE``
(soft and hard) to ``maxclients + 32``, settling for the highest value the
system allows (walking down 16 at a time); if that is still short, maxclients
is lowered to fit, with three warnings in the log. A client over maxclients then
gets ``-ERR max number of clients reached`` instead of an ``accept`` failing
with "Too many open files" (no reply at all, and SAVE or an AOF rewrite failing
for want of a descriptor).
"""

from __future__ import annotations

import errno
import os
import resource
from collections.abc import Callable

CONFIG_MIN_RESERVED_FDS = 32
_STEP = 16
_MAX_TRIES = 4096


class OpenFilesTooLow(OSError):
    """The open-file limit leaves no room for a single client: the server must not start."""


def _nr_open() -> int | None:
    try:
        with open("/proc/sys/fs/nr_open") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def adjust_open_files_limit(maxclients: int, log: Callable[[str, str], None]) -> int:
    """Raise RLIMIT_NOFILE for ``maxclients`` clients if needed and possible; return the
    maxclients that fits (lower than asked when the limit could not be raised enough).
    Raises ``OpenFilesTooLow`` when not even one client fits (Redis exits there)."""
    want = maxclients + CONFIG_MIN_RESERVED_FDS
    try:
        old, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as e:
        log(f"Unable to obtain the current NOFILE limit ({e}), assuming 1024 and setting "
            "the max clients configuration accordingly.", "warning")
        return 1024 - CONFIG_MIN_RESERVED_FDS
    if old == resource.RLIM_INFINITY or old >= want:
        return maxclients
    error = 0

    def attempt(n: int) -> bool:
        nonlocal error
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))  # both, as Redis does
            return True
        except ValueError as e:  # CPython's EPERM / EINVAL
            error = errno.EPERM if "not allowed" in str(e) else errno.EINVAL
        except OSError as e:
            error = e.errno or errno.EPERM
        return False

    best = want
    ok = attempt(best)
    if not ok:
        # Redis walks down 16 descriptors at a time; jump to where that walk first
        # fits under the system's ceiling (nr_open for root, else the hard limit)
        for cap in (_nr_open(), None if hard == resource.RLIM_INFINITY else hard):
            if cap is not None and old < cap < best:
                cand = best - _STEP * -(-(best - cap) // _STEP)
                if cand > old and attempt(cand):
                    best, ok = cand, True
                    break
                best = min(best, cand + _STEP)
    tries = 0
    while not ok and best > old and tries < _MAX_TRIES:
        if best < _STEP:
            best = old
            break
        best -= _STEP
        tries += 1
        if best > old:
            ok = attempt(best)
    if not ok or best < old:
        best = old
    if best >= want:
        log(f"Increased maximum number of open files to {want} (it was originally set "
            f"to {old}).", "notice")
        return maxclients
    if best <= CONFIG_MIN_RESERVED_FDS:
        msg = (f"Your current 'ulimit -n' of {old} is not enough for the server to start. "
               f"Please increase your open file limit to at least {want}. Exiting.")
        raise OpenFilesTooLow(msg)
    reduced = best - CONFIG_MIN_RESERVED_FDS
    log(f"You requested maxclients of {maxclients} requiring at least {want} max file "
        "descriptors.", "warning")
    log(f"Server can't set maximum open files to {want} because of OS error: "
        f"{os.strerror(error)}.", "warning")
    log(f"Current maximum open files is {best}. maxclients has been reduced to {reduced} "
        "to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
        "warning")
    return reduced
