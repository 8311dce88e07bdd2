"""The plugin's first import: tradeops's own modules load without assertion rewriting.

pytest rewrites the asserts of every module in a distribution that declares a pytest11
entry point, so that a plugin's helpers fail with introspected messages. tradeops's
asserts only narrow types; a check fails through its findings, never through an assert
in this package. Loading its ~55 modules through pytest's rewriting import hook cost
about 14 ms of a 0.37 s pre-flight (interleaved A/B of 21 pre-flights). Test
files and conftests are still rewritten: only the package's own name is unmarked.

pytest has no public switch for this (PYTEST_DONT_REWRITE in a docstring still loads the
module through the hook), so this takes the package out of the hook's set of marked
names. It runs from the plugin's first import, so only `tradeops`, `tradeops.plugin` and
this module are rewritten. pytest marks an editable install only when it can find the
package on sys.path at start-up: under `python -m pytest` from the checkout (the cron
wrapper and the benchmarks), not under the bare `pytest` script. Should a pytest release
rename that set, the modules are rewritten as before: slower, never wrong.
"""

from __future__ import annotations

import sys


def unmark(package: str = "tradeops") -> None:
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if type(finder).__name__ == "AssertionRewritingHook" and isinstance(marked, set):
            marked.discard(package)


unmark()
