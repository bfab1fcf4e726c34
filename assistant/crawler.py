"""The crawler: fetch web pages and sitemaps politely, within the allowed hosts.

robots.txt is obeyed (RFC 9309: a missing file allows everything, an unreachable one nothing);
requests to one host are spaced by ``delay`` seconds; a few run at once across hosts; a
timeout or a 5xx is retried with back-off; every failure is one URL's :class:`CrawlError`,
never the end of the crawl. A page fetched before is asked for conditionally (ETag,
Last-Modified), so an unchanged site costs one small answer per page.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Iterable, Iterator
from urllib.robotparser import RobotFileParser

import httpx

from .errors import CrawlError
from .sources import host_of

USER_AGENT = "cbss-assistant/0.1 (child-protection guidance assistant; sync of its sources)"
MAX_BYTES = 50 * 1024 * 1024  # the loaders' limit
_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf"}
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True)
class Page:
    """What one request found: ``status`` is fetched, unchanged (304) or gone (404/410)."""

    url: str
    status: str
    body: bytes = b""
    kind: str = ""  # html or pdf
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: httpx.Headers
    url: str  # after redirects
    body: bytes


@dataclass(frozen=True)
class Known:
    """What the last fetch of a page said, for a conditional request."""

    url: str
    etag: str = ""
    last_modified: str = ""


class Crawler:
    def __init__(self, hosts: Iterable[str], *, concurrency: int = 4, delay: float = 1.0, timeout: float = 20.0,
                 retries: int = 2, transport: httpx.BaseTransport | None = None) -> None:
        self.hosts = frozenset(h.lower() for h in hosts)
        self.concurrency, self.delay, self.retries = max(1, concurrency), max(0.0, delay), max(0, retries)
        self._client = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                                    headers={"User-Agent": USER_AGENT}, trust_env=False)
        self._robots: dict[str, RobotFileParser | None] = {}
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Crawler":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sitemaps ---------------------------------------------------------------------------
    def sitemap(self, url: str, *, depth: int = 0) -> list[str]:
        """The page addresses a sitemap lists (a sitemap index is followed, two levels deep)."""
        reply = self._get(url)
        if reply.status != 200:
            raise CrawlError(url, f"the sitemap answered {reply.status}; check the address")
        try:
            root = ET.fromstring(reply.body)
        except ET.ParseError as exc:
            raise CrawlError(url, f"is not a sitemap (XML error: {exc})") from exc
        locations = [(el.text or "").strip() for el in root.iter(f"{_SITEMAP_NS}loc")]
        if root.tag == f"{_SITEMAP_NS}sitemapindex":
            if depth >= 2:
                raise CrawlError(url, "sitemap indexes nested more than two levels deep")
            return [page for nested in locations if nested for page in self.sitemap(nested, depth=depth + 1)]
        if root.tag != f"{_SITEMAP_NS}urlset":
            raise CrawlError(url, "is not a sitemap (no <urlset> or <sitemapindex>)")
        return list(dict.fromkeys(loc for loc in locations if loc))

    # -- pages ------------------------------------------------------------------------------
    def fetch_all(self, pages: Iterable[Known]) -> Iterator[Page | CrawlError]:
        """Fetch every page, a few at a time; results come in the order they finish."""
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="crawl") as pool:
            futures = [pool.submit(self._fetch_or_error, known) for known in pages]
            for future in as_completed(futures):
                yield future.result()

    def _fetch_or_error(self, known: Known) -> Page | CrawlError:
        try:
            return self.fetch(known)
        except CrawlError as exc:
            return exc

    def fetch(self, known: Known) -> Page:
        url = known.url
        headers = {}
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        reply = self._get(url, headers)
        if reply.status == 304:
            if not headers:  # nothing to compare with: a broken server, not an unchanged page
                raise CrawlError(url, "answered 304 Not Modified to a request that was not conditional")
            return Page(url, "unchanged", etag=known.etag, last_modified=known.last_modified)
        if reply.status in (404, 410):
            return Page(url, "gone")
        if reply.status != 200:
            raise CrawlError(url, f"the server answered {reply.status}")
        media = reply.headers.get("content-type", "").split(";")[0].strip().lower()
        kind = _TYPES.get(media)
        if kind is None:
            raise CrawlError(url, f"is {media or 'of no stated type'}, not an HTML page or a PDF")
        return Page(url, "fetched", reply.body, kind, reply.headers.get("etag", ""), reply.headers.get("last-modified", ""))

    # -- one request ------------------------------------------------------------------------
    def _get(self, url: str, headers: dict[str, str] | None = None) -> _Reply:
        host = host_of(url)
        if host not in self.hosts:
            raise CrawlError(url, f"{host or 'no host'} is not among the allowed hosts ({', '.join(sorted(self.hosts))}); "
                                  "add it to hosts: in sources.yaml")
        robots = self._robots_of(url)
        if robots is None:
            raise CrawlError(url, "the site's robots.txt could not be read, so nothing is fetched from it (RFC 9309); "
                                  "try again later")
        if not robots.can_fetch(USER_AGENT, url):
            raise CrawlError(url, "the site's robots.txt does not allow fetching it")
        for attempt in range(self.retries + 1):
            try:
                reply = self._request(url, headers or {})
            except httpx.InvalidURL as exc:
                raise CrawlError(url, f"is not a valid web address ({exc})") from exc
            except httpx.TransportError as exc:  # timeouts, refused connections, broken streams
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt == self.retries:
                    raise CrawlError(url, f"no answer ({problem}) after {attempt + 1} tries") from exc
            else:
                if reply.status < 500 and reply.status != 429:
                    if host_of(reply.url) not in self.hosts:
                        raise CrawlError(url, f"redirects to {reply.url}, outside the allowed hosts")
                    return reply
                if attempt == self.retries:
                    return reply
            time.sleep(0.5 * 2 ** attempt)  # back-off: 0.5 s, 1 s, 2 s, ...
        raise AssertionError("unreachable")

    def _request(self, url: str, headers: dict[str, str]) -> _Reply:
        self._wait_turn(host_of(url))
        with self._client.stream("GET", url, headers=headers) as response:
            chunks, size = [], 0
            for chunk in response.iter_bytes():  # read in pieces so a huge file stops at the limit
                size += len(chunk)
                if size > MAX_BYTES:
                    raise CrawlError(url, f"is larger than {MAX_BYTES // 2**20} MB; it was not fetched")
                chunks.append(chunk)
            return _Reply(response.status_code, response.headers, str(response.url), b"".join(chunks))

    def _wait_turn(self, host: str) -> None:
        """Space the requests to one host by ``delay`` (politeness), whatever the thread."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next_at.get(host, now))
            self._next_at[host] = at + self.delay
        if at > now:
            time.sleep(at - now)

    def _robots_of(self, url: str) -> RobotFileParser | None:
        host = host_of(url)
        with self._lock:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:  # one robots.txt request per host, even with several threads
            if host not in self._robots:
                self._robots[host] = self._read_robots(url)
        return self._robots[host]

    def _read_robots(self, url: str) -> RobotFileParser | None:
        parts = httpx.URL(url)
        robots_url = f"{parts.scheme}://{parts.netloc.decode()}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            reply = self._request(robots_url, {})
        except (httpx.TransportError, CrawlError):
            return None  # unreachable: assume nothing may be fetched (RFC 9309)
        if reply.status >= 500:
            return None
        # A missing robots.txt (any 4xx) allows everything.
        parser.parse(reply.body.decode("utf-8", "replace").splitlines() if reply.status == 200 else [])
        return parser
