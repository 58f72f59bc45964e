#!/usr/bin/env python3
"""Sends listing reports at a steady rate, for benches/reports_load.sh.

    report_load.py URL RATE SECONDS PROVIDERS [ROUND] [THREADS]

POST URL/api/v1/providers/p-NNNNNN/reports at RATE per second for SECONDS
(open loop: request i is due at start + i/RATE; a late one goes at once),
each from its own client (X-Forwarded-For 10.ROUND.y.z, for a server
started with --trusted-proxy 127.0.0.1; another ROUND gives other clients
and other draws, so that a second run is not all repeats), for a random
provider p-000001 ..
p-PROVIDERS and random reasons. Keep-alive connections, one per thread.
Only for a server on 127.0.0.1: the request count is bounded by
RATE x SECONDS. Prints the achieved rate, the statuses and the latency.
"""
import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit

REASONS = ["phone", "address", "closed", "no_ketamine", "insurance", "price",
           "website", "other"]


def main() -> None:
    url, rate, seconds, providers = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    round_ = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 32
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("report_load.py only loads a local server")
    total = int(rate * seconds)
    start = time.monotonic() + 0.2
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        rng = random.Random(k + 1000 * round_)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for i in range(k, total, threads):
            due = start + i / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            reasons = rng.sample(REASONS, rng.randint(1, 2))
            body = {"reasons": reasons}
            if "other" in reasons:
                body["details"] = f"load test report {i}"
            provider = f"p-{rng.randint(1, providers):06d}"
            headers = {
                "Content-Type": "application/json",
                "X-Forwarded-For": f"10.{round_ % 256}.{i // 256 % 256}.{i % 256}",
            }
            sent = time.monotonic()
            try:
                connection.request("POST", f"/api/v1/providers/{provider}/reports",
                                   json.dumps(body), headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                status = 0
            elapsed = time.monotonic() - sent
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    took = time.monotonic() - start
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"reports: {len(latencies)} in {took:.1f} s = {len(latencies) / took:.0f}/s; "
          f"statuses {dict(sorted(statuses.items()))}; "
          f"latency p50 {percentile(0.50):.2f} ms, p99 {percentile(0.99):.2f} ms, "
          f"max {latencies[-1] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
