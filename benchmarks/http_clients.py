"""What building the connectors' HTTP clients costs: httpx's default client (one SSL context
each) against tradeops' (no SSL context for http://, one shared context for https://).

Prints, best of `--repeat` rounds of `--clients` clients each, the milliseconds per client
for: httpx.Client() as the connectors built it before; new_client() for an http:// URL;
new_client() for https:// URLs (the first pays for the shared context). Usage:
python benchmarks/http_clients.py [--clients 4] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

import httpx

from tradeops.connectors import _http


def per_client_ms(build, clients: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        _http.shared_ssl_context.cache_clear()
        started = time.perf_counter()
        made = [build() for _ in range(clients)]
        best = min(best, (time.perf_counter() - started) * 1000 / clients)
        for client in made:
            client.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="clients per round (pre-flight: 4)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    headers = {"Accept": "application/json"}
    rows = {
        "httpx.Client() (before)": lambda: httpx.Client(
            base_url="http://127.0.0.1:1", trust_env=False
        ),
        "new_client(http://)": lambda: _http.new_client(
            "http://127.0.0.1:1", timeout_s=5, headers=headers
        ),
        "new_client(https://), shared context": lambda: _http.new_client(
            "https://127.0.0.1:1", timeout_s=5, headers=headers
        ),
    }
    floor = None
    for name, build in rows.items():
        ms = per_client_ms(build, args.clients, args.repeat)
        floor = ms if floor is None else floor
        print(
            f"{name:40s} {ms:8.3f} ms/client  {ms * args.clients:8.2f} ms per {args.clients}"
            f"  {floor / ms:8.1f}x faster than the first row"
        )


if __name__ == "__main__":
    main()
