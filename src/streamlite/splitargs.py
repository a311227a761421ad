"""Redis's ``sdssplitargs``: how a line of text is split into arguments.

Used by inline (telnet-style) commands (``protocol/inline.py``), by config files
(``server/cli.py``, CONFIG REWRITE) and by ACL selectors (``(~key* +get)``); a
neutral module so that the engine need not import the protocol package.

``PING``, ``SET k "hello world"``, ``SET k 'it''s'``, ``SET k "\\x41\\n"``: words are
separated by whitespace; double quotes allow C escapes (``\\n``, ``\\xHH`` ...);
single quotes allow ``\\'``. A closing quote must be followed by a space or the end
of the line, else the line is invalid (``None``), as is an unterminated quote.
Redis splits a C string: a NUL byte ends the line there (``A\\0B`` is ``["A"]``, and a
quote still open at the NUL is unterminated).
"""

from __future__ import annotations

_SPACE = frozenset(b" \n\r\t\v\f")  # isspace(): skipped between words, after quotes
_ENDS_WORD = frozenset(b" \n\r\t")  # what ends an unquoted word (\v and \f do not)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESC = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_args(line: bytes) -> list[bytes] | None:
    """Split ``line`` into arguments; None for unbalanced quotes."""
    out: list[bytes] = []
    nul = line.find(0)
    if nul >= 0:
        line = line[:nul]
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None  # unterminated quotes
                ch = line[i]
                if ch == 0x5C and i + 3 < n and line[i + 1] == 0x78 and \
                        line[i + 2] in _HEX and line[i + 3] in _HEX:  # \xHH
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == 0x5C and i + 1 < n:
                    i += 1
                    cur.append(_ESC.get(line[i], line[i]))
                elif ch == 0x22:  # closing quote must be followed by a space or nothing
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            elif insq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif ch == 0x27:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in _ENDS_WORD:
                    break
                if ch == 0x22:
                    inq = True
                elif ch == 0x27:
                    insq = True
                else:
                    cur.append(ch)
            i += 1
        out.append(bytes(cur))
