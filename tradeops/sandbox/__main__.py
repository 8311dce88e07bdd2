"""Run the sandbox platform by hand: `python -m tradeops.sandbox --scenario NAME --dir DIR`.

Prints the path of the ops.toml it wrote (first line of stdout), then serves until
Ctrl-C. Tokens are in DIR/sandbox.env (mode 600), never on the terminal.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tradeops.sandbox.scenarios import SCENARIOS, markdown_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tradeops.sandbox", description=__doc__)
    parser.add_argument("--scenario", default="healthy", choices=list(SCENARIOS))
    parser.add_argument("--dir", type=Path, help="where to put the store and ops.toml")
    parser.add_argument("--days", type=int, help="days of history (default 30)")
    parser.add_argument("--strategies", type=int, help="number of strategies (default 30)")
    parser.add_argument("--heartbeat-interval", type=int, help="seconds (default 10)")
    parser.add_argument("--table", action="store_true", help="print the scenario table and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table())
        return 0
    if args.dir is None:
        parser.error("--dir is required to run the sandbox")

    from tradeops.sandbox import Sandbox, SandboxError, StoreParams

    sizes = {
        "days": args.days,
        "strategies": args.strategies,
        "heartbeat_interval_s": args.heartbeat_interval,
    }
    params = StoreParams(**{k: v for k, v in sizes.items() if v is not None})
    sandbox = Sandbox(args.scenario, directory=args.dir.resolve(), params=params)
    try:
        manifest = sandbox.start()
    except SandboxError as exc:
        print(f"sandbox did not start: {exc}", file=sys.stderr)
        return 1
    print(manifest, flush=True)
    print(
        f"sandbox scenario {args.scenario!r} running. In another shell:\n"
        f"  source {sandbox.directory / 'sandbox.env'}\n"
        f"  pytest -m preflight --ops-config {manifest}\n"
        "Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
