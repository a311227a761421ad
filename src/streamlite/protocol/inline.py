"""Inline (telnet-style) commands: a line split by Redis's ``sdssplitargs`` rules
(``streamlite.splitargs``, shared with config files and ACL selectors).

``PING``, ``SET k "hello world"``, ``SET k 'it''s'``, ``SET k "\\x41\\n"``: words are
separated by whitespace; double quotes allow C escapes; single quotes allow ``\\'``.
An unbalanced line is invalid (``None``).
"""

from __future__ import annotations

from ..splitargs import split_args

__all__ = ["split_args"]
