"""Build the optional C accelerator (``streamlite._speedups``) beside the pure-Python package.

Everything else about the package is in pyproject.toml. The extension is
``optional``: without a C compiler or Python's headers, setuptools prints a
warning and the install goes on; streamlite then runs its pure-Python engine
(``streamlite.accel`` says which path is active). ``STREAMLITE_NO_EXT=1`` at
install time skips the build on purpose.
"""

import os

from setuptools import Extension, setup

ext_modules = []
if os.environ.get("STREAMLITE_NO_EXT", "") in ("", "0"):
    ext_modules.append(
        Extension(
            "streamlite._speedups",
            sources=["src/streamlite/_speedups.c", "src/streamlite/_fastpath.c",
                     "src/streamlite/_readpath.c", "src/streamlite/_loadpath.c"],
            depends=["src/streamlite/_fastpath.h"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    )

setup(ext_modules=ext_modules)
