"""Docs generated from code stay in step with it."""

from pathlib import Path

from streamlite.engine.docgen import render

ROOT = Path(__file__).resolve().parent.parent


def test_commands_md_is_up_to_date():
    path = ROOT / "docs" / "commands.md"
    assert path.read_text() == render(), (
        "docs/commands.md is stale: run `python -m streamlite.engine.docgen > docs/commands.md`"
    )
