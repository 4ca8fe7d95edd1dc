"""Test helpers: crawl a portal's site map in process, as a browser would click it."""

from __future__ import annotations

import os
import socket
from collections import deque
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

from testbed.model import PortalSpec
from testbed.network import Network


def route_key(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path or "/")
    return f"{path}?{parts.query}" if parts.query else path


def crawl(net: Network, portal: PortalSpec) -> tuple[dict[str, int], dict[str, str], set[str]]:
    """BFS over rendered pages from the home page: (page depth by route key, page HTML by
    key, every URL linked from any page)."""
    site = net.site(portal)
    depth = {"/": 0}
    pages: dict[str, str] = {}
    linked: set[str] = set()
    queue = deque(["/"])
    while queue:
        key = queue.popleft()
        route = site.routes.get(key)
        if route is None or route.kind == "file":
            continue
        text = site.render(key)
        pages[key] = text
        base = portal.base_url + key
        for href in lxml.html.fromstring(text).xpath("//a/@href"):
            url = urljoin(base, href)
            if urlsplit(url).netloc != urlsplit(portal.base_url).netloc:
                continue
            linked.add(url)
            target = route_key(url)
            if target not in depth:
                depth[target] = depth[key] + 1
                queue.append(target)
    return depth, pages, linked


def element_texts(pages: dict[str, str] | list[str]) -> list[str]:
    """Folded text of every link, cell, paragraph and heading of the given pages."""
    from testbed.institutions import fold

    out = []
    for text in (pages.values() if isinstance(pages, dict) else pages):
        tree = lxml.html.fromstring(text)
        for node in tree.xpath("//a|//p|//td|//li|//h2|//h3"):
            out.append(" ".join(fold(node.text_content()).split()))
    return out


def shows_title(texts: list[str], title: str) -> bool:
    """True when some element is the title, or a label followed by the title."""
    from testbed.institutions import fold

    wanted = " ".join(fold(title).split())
    return any(t == wanted or t.endswith(" " + wanted) for t in texts)


def free_base_and_port() -> tuple[str, int]:
    """A 127.x.y.1 block private to this process, and a port free on its first address."""
    pid = os.getpid()
    base = f"127.{100 + pid % 100}.{pid // 100 % 200 + 1}.1"
    with socket.socket() as probe:
        probe.bind((base, 0))
        return base, probe.getsockname()[1]
