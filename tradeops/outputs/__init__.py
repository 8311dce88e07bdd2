"""The run's outputs: each one a small renderer of the same verdict document.

`tradeops.verdict.build` derives the verdict once; every output here renders that document,
so no two outputs can disagree. A file output is a module with

    NAME: str                                   # its short name
    wanted(config) -> bool                      # does this run ask for it?
    write(doc, config) -> list[Path]            # render the document; the files written

registered in `OUTPUTS` below: the plugin writes each wanted one at the session's end.
Adding an output is one new module and one line here. Outputs with their own moment are
peers in this folder too: `terminal` (the verdict block, last in the terminal summary),
`junit` (per-check properties, while the checks run), `kept` (the kept JSON, the chain,
retention and the index: the paper trail, under the chain's lock).
"""

from __future__ import annotations

from tradeops.outputs import json_file, prometheus

__all__ = ["OUTPUTS"]

OUTPUTS = (json_file, prometheus)
