"""The mirror: the sources' web pages kept as files under ``<data_dir>/web/``, and their sync.

Each fetched page is a file (``<host>/<hash>.html`` or ``.pdf``) that the loaders read like
any corpus file (document id ``web/<host>/<hash>.html``). The folder's ``manifest.yaml`` is
the loaders' manifest (source_url, a language when the page names none, the date from
Last-Modified, copy_of_source) plus what the next sync needs: ETag, Last-Modified, when it
was fetched and changed, and which source listed it. Files and the manifest are each replaced
atomically (the manifest at most once a second during a sync, and at its end); a file
without an entry is never read and is removed when the next sync starts, an entry without
its file is dropped: a sync killed at any point leaves a mirror the next sync completes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from .crawler import Crawler, Known, Page
from .errors import CrawlError, IngestError
from .loaders import MANIFEST, read_page
from .sources import Sources, host_of

log = logging.getLogger(__name__)
MIRROR_DIR = "web"
DOC_PREFIX = "web/"
COMMAND_LINE = "command line"  # pages added with ingest --url: kept until they are gone
_MANIFEST_EVERY = 1.0  # seconds: the manifest is rewritten at most this often during a sync
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class SyncReport:
    """What a sync did to the mirror, page by page (addresses)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.added) + len(self.changed) + len(self.unchanged) + len(self.failed)

    def summary(self) -> str:
        rate = f", {self.requests / self.seconds:.1f} pages/s" if self.seconds > 0 and self.requests else ""
        lines = [f"web: {len(self.added)} added, {len(self.changed)} changed, {len(self.unchanged)} unchanged, "
                 f"{len(self.removed)} removed, {len(self.failed)} failed ({self.requests} pages in "
                 f"{self.seconds:.1f} s{rate})"]
        lines += [f"failed {url}: {reason}" for url, reason in self.failed]
        return "\n".join(lines)


class Mirror:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / MIRROR_DIR
        self._written_at = 0.0
        self._read: tuple[tuple[int, int, int], dict[str, dict[str, Any]]] | None = None  # (file's stamp, entries)

    def entries(self) -> dict[str, dict[str, Any]]:
        """File (relative to the mirror) → its manifest entry (a copy, safe to change). The file
        is parsed again only when it has changed since this Mirror last read it."""
        path = self.root / MANIFEST
        try:
            stat = path.stat()
        except FileNotFoundError:
            return {}
        # The inode too: the manifest is replaced by a rename, which a coarse mtime could hide.
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._read is None or self._read[0] != stamp:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise IngestError(f"{path} cannot be read ({exc}); delete the folder {self.root} and sync again.") from exc
            self._read = (stamp, {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)})
        return {name: dict(entry) for name, entry in self._read[1].items()}

    def hosts(self) -> set[str]:
        """Hosts of the pages added from the command line (a sync may fetch them again)."""
        return {host_of(e["source_url"]) for e in self.entries().values() if e.get("listed_by") == COMMAND_LINE}

    def sync(self, sources: Sources, crawler: Crawler, *, urls: Sequence[str] = (), sitemaps: Sequence[str] = (),
             detect: Callable[[str], str | None], progress: bool = False) -> SyncReport:
        """Bring the mirror in step with the sources' pages, plus ``urls`` and ``sitemaps`` from
        the command line (kept until they are gone); ``detect`` names the language of a page
        that names none."""
        started = time.perf_counter()
        report = SyncReport()
        entries = self._tidy(self.entries())
        by_url = {e["source_url"]: name for name, e in entries.items()}

        listed: dict[str, str] = {}  # address → which source lists it
        unread_sitemaps = set()
        for sitemap, origin in [(s, f"sitemap {s}") for s in sources.sitemaps] + [(s, COMMAND_LINE) for s in sitemaps]:
            try:
                for url in crawler.sitemap(sitemap):
                    listed.setdefault(url, origin)
            except CrawlError as exc:
                report.failed.append((exc.url, exc.reason))
                unread_sitemaps.add(sitemap)
        listed.update({url: "url" for url in sources.urls})
        listed.update({url: COMMAND_LINE for url in urls})
        for url, name in by_url.items():
            origin = str(entries[name].get("listed_by", ""))
            if url in listed:
                continue
            if origin == COMMAND_LINE or origin.removeprefix("sitemap ") in unread_sitemaps:
                listed[url] = origin  # nothing is dropped because its sitemap could not be read
            else:
                self._remove(entries, name)  # no source lists it any more
                report.removed.append(url)

        from tqdm import tqdm

        known = [Known(url, *(_conditional(entries[by_url[url]]) if url in by_url else ("", "")))
                 for url in listed]
        with tqdm(total=len(known), desc="Fetching", unit="page", disable=not progress) as bar:
            for result in crawler.fetch_all(known):
                bar.update(1)
                if isinstance(result, CrawlError):
                    report.failed.append((result.url, result.reason))
                    log.warning("sync: %s", result)
                    continue
                self._apply(entries, by_url, result, listed[result.url], report, detect)
                self._write_manifest(entries, at_most_every=_MANIFEST_EVERY)
        self._write_manifest(entries)
        report.seconds = time.perf_counter() - started
        return report

    # -- one page ---------------------------------------------------------------------------
    def _apply(self, entries: dict[str, dict], by_url: dict[str, str], page: Page, listed_by: str,
               report: SyncReport, detect: Callable[[str], str | None]) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        name = by_url.get(page.url)
        if page.status == "gone":
            if name is not None:
                self._remove(entries, name)
                report.removed.append(page.url)
            return
        digest = "" if page.status == "unchanged" else hashlib.sha256(page.body).hexdigest()
        if page.status == "unchanged" or (name is not None and entries[name].get("sha256") == digest):
            # a 304 (only ever to a page fetched before) carries the validators it was asked with
            entries[name].update(fetched=now, listed_by=listed_by, etag=page.etag, last_modified=page.last_modified)
            report.unchanged.append(page.url)
            return
        new_name = name or f"{host_of(page.url)}/{hashlib.sha256(page.url.encode()).hexdigest()[:20]}.{page.kind}"
        if name is not None and not name.endswith("." + page.kind):  # the page became a PDF, or back
            self._remove(entries, name)
            new_name = name.rsplit(".", 1)[0] + "." + page.kind
        text, language = read_page(page.body, "." + page.kind)
        entry: dict[str, Any] = {"source_url": page.url, "kind": "web-page", "copy_of_source": True,
                                 "fetched": now, "changed": now, "listed_by": listed_by, "sha256": digest,
                                 "etag": page.etag, "last_modified": page.last_modified}
        if language is None and (found := detect(text)):
            entry["language"] = found
        if stamp := _date(page.last_modified):
            entry["date"] = stamp
        _write_atomically(self.root / new_name, page.body)
        entries[new_name] = entry
        by_url[page.url] = new_name
        (report.changed if name is not None else report.added).append(page.url)

    def _remove(self, entries: dict[str, dict], name: str) -> None:
        entries.pop(name, None)
        (self.root / name).unlink(missing_ok=True)  # an entry left without its file is dropped by _tidy

    def _tidy(self, entries: dict[str, dict]) -> dict[str, dict]:
        """Drop entries whose file is gone and files without an entry (a sync killed mid-page)."""
        kept = {n: e for n, e in entries.items() if (self.root / n).is_file() and e.get("source_url")}
        if self.root.is_dir():
            for path in self.root.rglob("*"):
                rel = path.relative_to(self.root).as_posix()
                if path.is_file() and rel != MANIFEST and rel not in kept:
                    path.unlink()
        if kept != entries:
            self._write_manifest(kept)
        return kept

    def _write_manifest(self, entries: dict[str, dict], *, at_most_every: float = 0.0) -> None:
        """Write the manifest (atomically); with ``at_most_every``, only when that long has passed.
        Whatever a killed sync had not written yet is found again by _tidy and the next sync."""
        if at_most_every and time.monotonic() - self._written_at < at_most_every:
            return
        text = ("# Written by `assistant ingest` (the web sources' sync); edits are overwritten.\n"
                + yaml.dump(entries, Dumper=_DUMPER, allow_unicode=True, sort_keys=True))
        _write_atomically(self.root / MANIFEST, text.encode("utf-8"))
        self._written_at = time.monotonic()


def _conditional(entry: dict[str, Any]) -> tuple[str, str]:
    return str(entry.get("etag") or ""), str(entry.get("last_modified") or "")


def _date(last_modified: str) -> str:
    """An HTTP date as YYYY-MM-DD ('' when absent or unreadable)."""
    try:
        return parsedate_to_datetime(last_modified).date().isoformat() if last_modified else ""
    except (TypeError, ValueError):
        return ""


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # a reader (or a sync killed now) sees the old file or the new one, never half
