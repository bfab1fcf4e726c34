"""Speed of the web sync on this machine: a site of N pages served on loopback, synced into
a fresh mirror, then synced again unchanged (conditional requests: every page answers 304).

    .venv/bin/python benchmarks/crawl.py [--pages 200] [--rounds 3] [--concurrency 4]

Prints a table: median seconds of several runs, pages/s and requests per page; the baseline
(ratio 1.00) is the first sync, measured in the same process. Politeness delay 0: this
measures the crawler, not the wait a real site is given (ASSISTANT_CRAWL_DELAY, 1 s a host).
Only the mirror is timed (no embedding: that is `benchmarks/bench.py`'s ingest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.crawler import Crawler  # noqa: E402
from assistant.mirror import Mirror  # noqa: E402
from assistant.sources import Sources  # noqa: E402


def serve(pages: int) -> tuple[ThreadingHTTPServer, Counter]:
    requests: Counter = Counter()
    body = {f"/p{n}.html": (f"<html lang='en'><head><title>Page {n}</title></head><body><main>"
                            + "".join(f"<p>Paragraph {k} of page {n} tells how the region protects children.</p>"
                                      for k in range(20)) + "</main></body></html>").encode() for n in range(pages)}
    host = "127.0.0.1"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            requests[self.path] += 1
            if self.path == "/sitemap.xml":
                locs = "".join(f"<url><loc>http://{host}:{port}{p}</loc></url>" for p in body)
                data, kind = (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode(),
                              "application/xml")
            elif self.path in body:
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, kind = body[self.path], "text/html"
            else:
                data, kind = b"", "text/plain"
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", '"v1"')
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages of the test site (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement; the median is shown (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="pages fetched at once (default 4)")
    args = parser.parse_args()
    server, requests = serve(args.pages)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sources = Sources(folders=(), sitemaps=(f"{url}/sitemap.xml",), hosts=frozenset({"127.0.0.1"}))
    first, again, per_page = [], [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp, Crawler({"127.0.0.1"}, concurrency=args.concurrency, delay=0) as crawler:
            mirror = Mirror(Path(tmp))
            started = time.perf_counter()
            report = mirror.sync(sources, crawler, detect=lambda text: None)
            first.append(time.perf_counter() - started)
            assert len(report.added) == args.pages, report.summary()
            requests.clear()
            started = time.perf_counter()
            report = mirror.sync(sources, crawler, detect=lambda text: None)
            again.append(time.perf_counter() - started)
            assert len(report.unchanged) == args.pages, report.summary()
            per_page.append(sum(requests.values()) / args.pages)
    server.shutdown()
    base = statistics.median(first)
    print(f"web sync of a {args.pages}-page loopback site, concurrency {args.concurrency}, delay 0, "
          f"median of {args.rounds} runs")
    print(f"{'run':<34}{'seconds':>9}{'pages/s':>10}{'ratio':>8}")
    for name, runs in (("first sync (baseline)", first), ("re-sync, nothing changed (304s)", again)):
        seconds = statistics.median(runs)
        print(f"{name:<34}{seconds:>9.2f}{args.pages / seconds:>10.0f}{seconds / base:>8.2f}")
    print(f"requests per page on a re-sync: {statistics.median(per_page):.3f} (one conditional GET; plus the sitemap)")


if __name__ == "__main__":
    main()
