"""LOLWUT [VERSION version] [argument ...]: Redis's computer-art easter egg.

Model, as Redis 8 dispatches it: ``VERSION`` picks the art (default: the server's
major version, 8); version 8 is a stanza of Nanni Balestrini's TAPE MARK I (1961),
made as his program made it: the fifteen verses of three sources are shuffled, then
up to ten are taken, each one the first remaining verse whose first metre fraction
connects with the previous verse's second one and whose source differs; the verses
are upper-cased, their ``/`` joints become spaces, and an explanation follows
(Redis 8.2's text, byte for byte).
``LOLWUT IT`` gives the original Italian. Every other version answers the version
line alone (Redis 8.2 does so for the versions it has no art for; streamlite also
for 5 and 6, Schotter and the skyscrapers: see docs/commands.md). The reply is
verbatim text (a bulk string in RESP2).
"""

from __future__ import annotations

import random
from typing import Any

import streamlite

from ..args import parse_int
from ..client import Client
from ..registry import command
from ..replies import Verbatim

# (English, Italian, fraction 1, fraction 2, source): 1 Hiroshima diary (M. Hachiya),
# 2 The Mystery of the Elevator (P. Goldwin), 3 Tao Te Ching
VERSES = [
    (" The blinding / globe / of fire ", " l accecante   /  globo  /  di fuoco  ", "1/4", "2/3", 1),
    (" It expands / rapidly ", " si espande   /  rapidamente  ", "1/2", "3/4", 1),
    (" Thirty times / brighter / than the sun ",
     " trenta volte  / piu luminoso  / del sole ", "2/3", "2/4", 1),
    (" When it reaches / the stratosphere ", " quando  raggiunge / la stratosfera  ",
     "3/4", "1/2", 1),
    (" The summit / of the cloud ", " la  sommita  /  della nuvola ", "1/3", "2/3", 1),
    (" Assumes / the well-known shape / of a mushroom ",
     " assume   / la ben nota forma  / di fungo ", "2/4", "3/4", 1),
    (" The head / pressed / upon the shoulder ", " la testa / premuta  / sulla spalla  ",
     "1/4", "2/4", 2),
    (" The hair / between the lips ", " i  capelli   /  tra le labbra ", "1/4", "2/4", 2),
    (" They lay / motionless / without speaking ",
     " giacquero  /   immobili / senza parlare ", "2/3", "2/3", 2),
    (" Till he moved / his fingers / slowly ",
     " finche non mosse  /  le dita  / lentamente    ", "3/4", "1/3", 2),
    (" Trying / to grasp ", " cercando / di afferrare  ", "3/4", "1/2", 2),
    (" While the multitude / of things / comes into being ",
     " mentre la moltitudine  /  delle cose  /   accade   ", "1/2", "1/2", 3),
    (" I envisage / their return ", " io contemplo  /  il loro ritorno    ", "2/3", "3/4", 3),
    (" Although / things / flourish ", " malgrado / che le cose  /  fioriscano    ",
     "1/2", "2/3", 3),
    (" They all return / to / their roots ",
     " esse tornano  / tutte    / alla loro radice   ", "2/3", "1/4", 3),
]

ABOUT = (
    "\nIn 1961, Nanni Balestrini created one of the first computer-generated poems, TAPE "
    "MARK I, using an IBM 7090 mainframe. Each execution combined verses from three "
    "literary sources following algorithmic rules based on metrical compatibility and "
    "group constraints. This LOLWUT command reproduces Balestrini's original algorithm, "
    "generating new stanzas through the same computational poetry process described in "
    "Almanacco Letterario Bompiani, 1962.\n\n"
    "https://en.wikipedia.org/wiki/Digital_poetry\n"
    "https://www.youtube.com/watch?v=8i7uFCK7G0o (English subs)\n\n"
    "Use: LOLWUT IT for the original Italian output.\n\n")  # Redis 8.2: no version here

_rng = random.Random()


def _connects(prev: tuple[Any, ...], verse: tuple[Any, ...]) -> bool:
    """Balestrini's rule: a metre fraction of ``verse`` meets ``prev``'s second one
    (numerator to numerator, or denominator to numerator or denominator), and the
    source changes."""
    f1, f2 = verse[2], prev[3]
    return bool((f1[0] == f2[0] or f1[2] == f2[0] or f1[2] == f2[2]) and verse[4] != prev[4])


def stanza(rng: random.Random, italian: bool = False) -> str:
    pool = list(VERSES)
    rng.shuffle(pool)
    chosen: list[tuple[Any, ...]] = []
    while len(chosen) < 10:
        nxt = next((v for v in pool if not chosen or _connects(chosen[-1], v)), None)
        if nxt is None:
            break
        chosen.append(nxt)
        pool.remove(nxt)
    text = "".join(v[1 if italian else 0] + "\n" for v in chosen)
    return text.upper().replace("/", " ")


@command("lolwut", -1, "readonly fast", group="server")
def lolwut(c: Client, argv: list[bytes]) -> Any:
    """LOLWUT [VERSION version]"""
    version = int(streamlite.REDIS_VERSION.split(".")[0])
    rest = argv[1:]
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = parse_int(argv[2])
        rest = argv[3:]
    line = f"Redis ver. {streamlite.REDIS_VERSION}\n"
    if version != 8:
        return Verbatim(line.encode())
    italian = bool(rest) and rest[0].lower() == b"it"  # LOLWUT IT, LOLWUT VERSION 8 IT
    return Verbatim((stanza(_rng, italian) + ABOUT).encode())
