"""The outgoing proxy the environment names, read as httpx and curl read it.

Municipal servers often reach the internet only through a proxy. Both messengers'
connections take it from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`, with `NO_PROXY`
for the hosts reached directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy `env` names for `url`, as httpx and curl read it; None: connect directly.

    `HTTPS_PROXY` (or `HTTP_PROXY` for http URLs), else `ALL_PROXY`; lower-case names
    too; a host that `NO_PROXY` lists (or one of its subdomains, or "*") goes direct.
    """
    def var(name: str) -> str:
        return (env.get(name.lower()) or env.get(name.upper()) or "").strip()

    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    if _bypassed(parts.hostname or "", port, var("no_proxy")):
        return None
    proxy = var(f"{parts.scheme}_proxy") or var("all_proxy")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY ("localhost,.intern.example,10.1.2.3:8081", "*") lists `host`."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, wanted_port = entry.rpartition(":") if entry.count(":") == 1 else (
            entry, "", "")
        if wanted_port and (not wanted_port.isdigit() or int(wanted_port) != port):
            continue
        name = name.lstrip(".")
        if name and (host.lower() == name or host.lower().endswith("." + name)):
            return True
    return False
