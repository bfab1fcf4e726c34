"""What the index is built from: ``<corpus>/sources.yaml`` lists local folders, web pages and sitemaps.

Without the file the corpus folder alone is the source (as before). With it::

    sources:
      - folder: .                                   # inside the corpus folder
      - url: https://cbss.org/safe-secure-region/child-protection/
      - sitemap: https://cbss.org/page-sitemap.xml
    hosts: [cbss.org]                               # optional: default, the hosts listed above

``assistant ingest`` with no argument syncs every source; the crawler never leaves ``hosts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .errors import ConfigError

SOURCES_FILE = "sources.yaml"
_KINDS = ("folder", "url", "sitemap")


@dataclass(frozen=True)
class Sources:
    folders: tuple[Path, ...]
    urls: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    hosts: frozenset[str] = frozenset()


def host_of(url: str) -> str:
    """The lower-case host name of a web address ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def check_address(address: str, where: str) -> None:
    """Raise ConfigError unless ``address`` is an http(s) address with a host."""
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {address!r} is not a web address; give it as https://host/path.")


def load_sources(corpus_dir: Path) -> Sources:
    """The sources of ``corpus_dir`` (its ``sources.yaml``, else the folder itself)."""
    corpus_dir = Path(corpus_dir)
    path = corpus_dir / SOURCES_FILE
    if not path.is_file():
        return Sources(folders=(corpus_dir,))
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{where}: cannot be read ({exc}); fix the YAML syntax.") from exc
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: needs a 'sources' list of folder:, url: and sitemap: entries.")
    found: dict[str, list[str]] = {kind: [] for kind in _KINDS}
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in _KINDS:
            raise ConfigError(f"{where}: entry {n} must be one of folder: PATH, url: ADDRESS or sitemap: ADDRESS.")
        kind, value = next(iter(entry.items()))
        found[kind].append(str(value).strip())
    folders = []
    for name in found["folder"]:
        folder = (corpus_dir / name).resolve()
        if not folder.is_relative_to(corpus_dir.resolve()):
            raise ConfigError(f"{where}: folder {name!r} is outside the corpus folder; move it inside {corpus_dir}.")
        folders.append(folder)
    for address in found["url"] + found["sitemap"]:
        check_address(address, where)
    hosts = data.get("hosts")
    if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)):
        raise ConfigError(f"{where}: hosts must be a list of host names, e.g. [cbss.org].")
    allowed = {h.lower() for h in hosts} if hosts else {host_of(a) for a in found["url"] + found["sitemap"]}
    return Sources(tuple(folders), tuple(found["url"]), tuple(found["sitemap"]), frozenset(allowed))
