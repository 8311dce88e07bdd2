"""What the Prometheus textfile costs a run: prometheus_client's imports and one write.

    python benchmarks/monitoring.py [--repeat 9] [--checks 300]

Figures are medians, printed beside a floor measured in the same run: the imports against
`python -c pass` (a bare interpreter start), the textfile write against writing the same
document as JSON (what --ops-json already costs). Unset PYTHONDONTWRITEBYTECODE for timings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.outputs.documents import check, document, slo
from tradeops.outputs import prometheus


def child(code: str, repeat: int) -> float:
    """Median wall time of `python -c code` in a fresh process."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--checks", type=int, default=300, help="check items in the document")
    args = parser.parse_args()

    floor = child("pass", args.repeat)
    module = child("import tradeops.outputs.prometheus", args.repeat)
    client = child(
        "import tradeops.outputs.prometheus, prometheus_client, prometheus_client.parser",
        args.repeat,
    )
    print(f"interpreter start (floor)       {floor * 1000:7.1f} ms")
    print(f"+ tradeops.outputs.prometheus   {(module - floor) * 1000:7.1f} ms")
    print(f"+ prometheus_client (lazy)      {(client - module) * 1000:7.1f} ms"
          f"   = {(client - module) / floor:.2f} x the floor")  # fmt: skip

    checks = [check(f"c{i}", "failed" if i % 10 == 0 else "passed") for i in range(args.checks)]
    names = ("run_success", "trade_persistence", "heartbeat_delivery")
    doc = document("red", checks, kind="full", highest="P1", slo=[slo(n) for n in names])
    with tempfile.TemporaryDirectory() as tmp:
        textfile, as_json = Path(tmp) / "t.prom", Path(tmp) / "t.json"
        prometheus.write_textfile(doc, textfile)  # warm: imports done
        json_s = timed(lambda: as_json.write_text(json.dumps(doc, indent=1)), args.repeat)
        prom_s = timed(lambda: prometheus.write_textfile(doc, textfile), args.repeat)
        size = textfile.stat().st_size
    print(f"JSON write, {args.checks} checks (floor) {json_s * 1000:7.2f} ms")
    print(f"textfile write (read back + write) {prom_s * 1000:7.2f} ms"
          f"   = {prom_s / json_s:.1f} x the floor, {size / 1024:.0f} KiB")  # fmt: skip


if __name__ == "__main__":
    main()
