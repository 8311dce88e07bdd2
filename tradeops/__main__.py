"""`python -m tradeops COMMAND`: the suite's commands outside pytest.

python -m tradeops postmortem --since T1 --until T2 [--ops-config PATH] [--out FILE]
"""

from __future__ import annotations

import sys

COMMANDS = ("postmortem",)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m tradeops {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return 2
    from tradeops.postmortem.cli import main as postmortem

    return postmortem(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
