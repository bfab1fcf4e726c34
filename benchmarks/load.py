"""Load on the running web app through its HTTP API: errors, throughput, latency, server memory.

    .venv/bin/python benchmarks/load.py                      # starts `assistant serve` on a free port
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860 [--pid PID]
    .venv/bin/python benchmarks/load.py --clients 4 --questions 2 --json

Each client is a thread that asks through Gradio's HTTP API (POST /gradio_api/call/respond,
then the event stream), all on one httpx connection pool: lighter than a gradio_client per
client, so the load generator takes less of the machine from the server it measures. The
questions (12 languages, a few of them danger messages) are drawn round-robin from a built-in
list. One warm-up request runs before the clock starts. Latency percentiles are over the
answered requests; an exception, a timeout or an empty answer counts as an error (exit status 1).
Peak RSS is that of the server process and its children, sampled every 0.2 s. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import OFFLINE_ENV, Settings  # noqa: E402
from assistant.web import API_NAME  # noqa: E402 - cheap: gradio is imported only when the page is built

import httpx  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

QUESTIONS: list[tuple[str, str]] = [
    ("What is a Barnahus?", "en"),
    ("When did Sweden ban corporal punishment of children?", "en"),
    ("What are the PROMISE Barnahus quality standards?", "en"),
    ("How do I report a concern about a child's safety?", "en"),
    ("Hvad er et Børnehus?", "da"),
    ("Hvornår blev revselsesretten afskaffet i Danmark?", "da"),
    ("Was ist ein Barnahus?", "de"),
    ("Welche Nummer hat das Kinder- und Jugendtelefon?", "de"),
    ("Was sagt die UN-Kinderrechtskonvention über Gewalt gegen Kinder?", "de"),
    ("Mis on lastemaja?", "et"),
    ("Kuidas teatada abivajavast lapsest?", "et"),
    ("Mikä on Lastenasiaintalo?", "fi"),
    ("Milloin Suomi kielsi lasten ruumiillisen kurituksen?", "fi"),
    ("Hvað er Barnahús?", "is"),
    ("Hvernig tilkynni ég áhyggjur af velferð barns?", "is"),
    ("Kas ir Bērnu māja?", "lv"),
    ("Kāds ir bērnu un pusaudžu uzticības tālruņa numurs?", "lv"),
    ("Kas yra Vaiko namai?", "lt"),
    ("Kaip pranešti apie smurtą prieš vaiką?", "lt"),
    ("Hva er Statens barnehus?", "nb"),
    ("Når ble fysisk avstraffelse av barn forbudt i Norge?", "nb"),
    ("Czym są standardy PROMISE?", "pl"),
    ("Jaki jest numer telefonu zaufania dla dzieci i młodzieży?", "pl"),
    ("Jak zgłosić podejrzenie krzywdzenia dziecka?", "pl"),
    ("Vad är ett Barnahus?", "sv"),
    ("Hur gör jag en orosanmälan?", "sv"),
    ("Що таке Конвенція ООН про права дитини?", "uk"),
    ("Як повідомити про насильство над дитиною?", "uk"),
    # danger messages: the answer must open with a safety notice
    ("my dad hits me and im scared to go home", "en"),
    ("tata mnie bije i boję się wrócić do domu", "pl"),
    ("pappa slår mig och jag vågar inte gå hem", "sv"),
]


# -- server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(log: IO[bytes], lines: int = 30) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])


def start_server(log: IO[bytes], startup_timeout: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start `assistant serve` on a free loopback port and wait until it answers HTTP."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # ASSISTANT_* and an operator's own values pass through; every client comes from one loopback
    # address, so the per-client rate limit is off unless the operator asks for it.
    env = {**OFFLINE_ENV, "ASSISTANT_RATE_LIMIT": "0", **os.environ}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}; its output ends:\n{tail(log)}")
        try:
            if httpx.get(url + "gradio_api/info", timeout=2, trust_env=False).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise SystemExit(f"the server did not answer at {url} within {startup_timeout:.0f} s; its output ends:\n{tail(log)}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it has its own session), SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


# -- memory ------------------------------------------------------------------------------
def tree_pids(pid: int) -> set[int]:
    """``pid`` and all its descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {pid}, [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier and child not in tree]
        tree.update(frontier)
    return tree


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its descendants."""
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants, in kB (0 once it is gone)."""
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class RssSampler(threading.Thread):
    """Keeps the peak of ``tree_rss_kb(pid)``, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self.done.wait(self.interval)


# -- load --------------------------------------------------------------------------------
def ask(http: httpx.Client, url: str, question: str, locale: str, timeout: float) -> str:
    """One answer through Gradio's HTTP API: POST the question, then read the event stream."""
    started = time.monotonic()
    job = http.post(f"{url}gradio_api/call/{API_NAME}", json={"data": [question, locale, ""]}, timeout=timeout)
    job.raise_for_status()
    event = ""
    with http.stream("GET", f"{url}gradio_api/call/{API_NAME}/{job.json()['event_id']}", timeout=timeout) as stream:
        for line in stream.iter_lines():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"no answer within {timeout:.3g} s")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = json.loads(line[5:])
                if event == "error":
                    raise RuntimeError(data.get("error") if isinstance(data, dict) else data)
                answer = data[0] if isinstance(data, list) and data else None
                if not isinstance(answer, str) or not answer.strip():
                    raise ValueError(f"empty answer: {answer!r}")
                return answer
    raise RuntimeError("the event stream ended without an answer")


def run_load(http: httpx.Client, url: str, clients: int, questions: int, timeout: float,
             deadline: float) -> tuple[list[float], list[str]]:
    """``clients`` threads each ask ``questions`` questions, one after another; returns
    (latencies in s, error reasons)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def worker(i: int) -> None:
        start.wait()
        for j in range(questions):
            question, locale = QUESTIONS[(i * questions + j) % len(QUESTIONS)]
            left = deadline - time.monotonic()
            if left <= 0:
                with lock:
                    errors.extend([f"client {i}: overall deadline reached before asking"] * (questions - j))
                return
            t0 = time.perf_counter()
            try:
                ask(http, url, question, locale, min(timeout, left))
                with lock:
                    latencies.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - every failure is a measured error
                with lock:
                    errors.append(f"client {i}, {question!r}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + timeout + 5)
    with lock:
        return list(latencies), list(errors)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (nan when there are no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def loopback_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or parts.hostname not in LOOPBACK:
        raise argparse.ArgumentTypeError(f"{url!r}: only http(s) URLs on {', '.join(sorted(LOOPBACK))} are allowed")
    return url


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring as written, and each option's default (unless it is None or False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default in (None, False) else super()._get_help_string(action)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--url", type=loopback_url, help="drive an app already running here (default: start one)")
    parser.add_argument("--pid", type=int, help="with --url: server process whose peak RSS to report")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (threads)")
    parser.add_argument("--questions", type=int, default=10, help="questions each client asks")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed for one answer")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds allowed for the whole run")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for a started server")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    if args.clients < 1 or args.questions < 1:
        parser.error("--clients and --questions must be at least 1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the server
    proc: subprocess.Popen[bytes] | None = None
    sampler: RssSampler | None = None
    startup: float | None = None
    with tempfile.TemporaryFile() as log:
        try:
            if args.url:
                url = args.url
            else:
                print("starting the server...", file=sys.stderr, flush=True)
                clock = time.perf_counter()
                proc, url = start_server(log, args.startup_timeout)
                startup = time.perf_counter() - clock
            pid = proc.pid if proc else args.pid
            if pid:
                sampler = RssSampler(pid)
                sampler.start()
            url = url if url.endswith("/") else url + "/"
            limits = httpx.Limits(max_connections=2 * args.clients, max_keepalive_connections=2 * args.clients)
            http = httpx.Client(limits=limits, trust_env=False)  # thread-safe; one pool for every client
            try:
                ask(http, url, *QUESTIONS[0], args.timeout)  # warm-up, off the clock
            except httpx.ConnectError as exc:
                raise SystemExit(f"could not connect to {url}: {exc}") from exc
            except Exception as exc:  # noqa: BLE001
                raise SystemExit(f"warm-up request failed: {type(exc).__name__}: {exc}") from exc
            started, cpu_before, own_before = time.perf_counter(), tree_cpu_s(pid) if pid else 0.0, time.process_time()
            latencies, errors = run_load(http, url, args.clients, args.questions, args.timeout,
                                         time.monotonic() + args.deadline)
            wall = time.perf_counter() - started
            server_cpu = tree_cpu_s(pid) - cpu_before if pid else None
            own_cpu = time.process_time() - own_before
            missing = args.clients * args.questions - len(latencies) - len(errors)
            errors += [f"{missing} requests still unanswered when the run was stopped"] if missing > 0 else []
        finally:
            if sampler:
                sampler.done.set()
                sampler.join()
            if proc:
                stop_server(proc)

    result: dict[str, Any] = {
        "url": url,
        "clients": args.clients,
        "questions": args.questions,
        "requests": args.clients * args.questions,
        "concurrency": Settings.from_env().concurrency if not args.url else os.environ.get("ASSISTANT_CONCURRENCY"),
        "answers": len(latencies),
        "errors": len(errors),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(latencies) / wall, 2),
        **{f"p{p}_ms": round(percentile(latencies, p) * 1000) if latencies else None for p in (50, 95, 99)},
        "peak_rss_mb": round(sampler.peak_kb / 1024) if sampler else None,
        "startup_s": round(startup, 1) if startup is not None else None,
        "client_cpu_ms_per_answer": round(own_cpu * 1000 / len(latencies)) if latencies else None,
        "server_cpu_ms_per_answer": round(server_cpu * 1000 / len(latencies)) if server_cpu and latencies else None,
        "first_errors": errors[:5],
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        shown = lambda key, unit="": "n/a" if result[key] is None else f"{result[key]}{unit}"  # noqa: E731
        rows = [
            ("clients × questions each", f"{args.clients} × {args.questions}"),
            ("ASSISTANT_CONCURRENCY", str(result["concurrency"] or "n/a (the app at --url decides)")),
            ("answers / requests", f"{result['answers']} / {result['requests']}"),
            ("errors", str(result["errors"])),
            ("wall time", f"{result['wall_s']:.1f} s"),
            ("throughput", f"{result['throughput_per_s']:.2f} answers/s"),
            ("latency p50 / p95 / p99", f"{shown('p50_ms')} / {shown('p95_ms')} / {shown('p99_ms')} ms"),
            ("server peak RSS", shown("peak_rss_mb", " MB")),
            ("server CPU per answer", shown("server_cpu_ms_per_answer", " ms")),
            ("load generator CPU per answer", shown("client_cpu_ms_per_answer", " ms")),
            ("server start to first HTTP answer", shown("startup_s", " s")),
        ]
        w1, w2 = (max(len(row[i]) for row in rows) for i in (0, 1))
        print(f"| {'measurement':<{w1}} | {'value':<{w2}} |\n|{'-' * (w1 + 2)}|{'-' * (w2 + 2)}|")
        for name, value in rows:
            print(f"| {name:<{w1}} | {value:<{w2}} |")
        for reason in errors[:5]:
            print(f"error: {reason}", file=sys.stderr)
        if len(errors) > 5:
            print(f"... and {len(errors) - 5} more errors", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server was already stopped by main's finally
        sys.exit(130)
