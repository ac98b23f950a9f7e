"""The docs site (`make docs`, docs/build.py) as a reader meets it: built with warnings as errors, every internal link and
cross-reference resolved, nothing fetched from another host, and in headless Debian Chromium served from a local static
server with the network blocked: navigation, a picture, and search for `predict_batch` (also from file://)."""
import functools
import os
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import CHROMIUM, browser, screenshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT/'_docs'
OUT = Path(__file__).parent/'out'


@pytest.fixture(scope='module')
def site():
    "Build the site (incremental: seconds when `make docs` has just run) and return its folder."
    r = subprocess.run([sys.executable, str(ROOT/'docs/build.py')], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f'docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return DOCS


class _Page(HTMLParser):
    "Links, resources, ids and unresolved cross-references of one HTML page."
    def __init__(self):
        super().__init__(); self.links, self.resources, self.ids, self.bad_xrefs = [], [], set(), []
        self._a = []  # open <a> elements: was each a link?
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'a':
            self._a.append('href' in a)
            if 'href' in a: self.links.append(a['href'])
        if tag in ('script', 'img', 'iframe', 'source', 'video', 'audio') and a.get('src'): self.resources.append(a['src'])
        if tag == 'link' and a.get('href') and a.get('rel') not in ('index', 'search', 'next', 'prev', 'canonical'):
            self.resources.append(a['href'])
        cls = a.get('class') or ''
        if tag == 'code' and 'xref' in cls.split() and not any(self._a) and not self._in_toc: self.bad_xrefs.append(self.getpos())
        if tag == 'div' and 'toc-tree' in cls: self._toc_depth = 1
        elif getattr(self, '_toc_depth', 0) and tag == 'div': self._toc_depth += 1
    def handle_endtag(self, tag):
        if tag == 'a' and self._a: self._a.pop()
        if tag == 'div' and getattr(self, '_toc_depth', 0): self._toc_depth -= 1
    @property
    def _in_toc(self): return getattr(self, '_toc_depth', 0) > 0


def _parse(path):
    p = _Page(); p.feed(path.read_text(encoding='utf-8')); return p


def _external(url): return urlparse(url).scheme in ('http', 'https') or url.startswith('//')


def test_site_links(site):
    "Every internal link reaches a file (and its #fragment an element); every cross-reference to hotdog resolved; nothing loaded from another host."
    pages = {p: _parse(p) for p in site.rglob('*.html')}
    assert len(pages) >= 25, sorted(pages)
    missing, no_anchor, outside, unresolved = [], [], [], []
    for path, page in pages.items():
        for href in page.links:
            if _external(href) or href.startswith(('mailto:', 'javascript:')): continue
            url, frag = urldefrag(href)
            target = (path.parent/unquote(url)).resolve() if url else path
            if target.is_dir(): target = target/'index.html'
            if not target.exists(): missing.append(f'{path.name} -> {href}'); continue
            if frag and target.suffix == '.html' and target in pages and frag not in pages[target].ids:
                no_anchor.append(f'{path.name} -> {href}')
        outside += [f'{path.name}: {u}' for u in page.resources if _external(u)]
        if path.name not in ('api.html', 'py-modindex.html'):  # there: base classes like `object`, the package `hotdog`
            unresolved += [f'{path.name}:{line}' for line, _ in page.bad_xrefs]
    assert not missing, f'{len(missing)} internal links 404: {missing[:20]}'
    assert not no_anchor, f'{len(no_anchor)} links to a missing anchor: {no_anchor[:20]}'
    assert not outside, f'resources from other hosts: {outside[:20]}'
    assert not unresolved, f'{len(unresolved)} unresolved cross-references: {unresolved[:20]}'
    css = [f.name for f in site.rglob('*.css') if re.search(r'(@import|url\()\s*[\'"]?(https?:)?//', f.read_text())]
    assert not css, f'stylesheets that load from other hosts: {css}'


def test_pages_render_nbdev_directives(site):
    "No `#|` line or Quarto attribute reaches a page; every notebook has a page and the API page documents predict_batch."
    for nb in (ROOT/'nbs').glob('*.ipynb'):
        html = (site/f'{nb.stem}.html').read_text(encoding='utf-8')
        assert not re.search(r'(^|>)#\|\s*\w', html, re.M) and '{target=' not in html, nb.stem  # (prose may quote `#| slow`)
        assert 'hotdog.example' not in html and 'example.invalid' not in html, nb.stem
    api = (site/'api.html').read_text(encoding='utf-8')
    assert 'id="hotdog.head.predict_batch"' in api and 'id="hotdog.queue.Queue"' in api
    assert 'Items, paths or PIL images' in api   # a docments comment: predict_batch's `images` parameter


@pytest.fixture
def served(site):
    "The site from Python's static file server on 127.0.0.1 and a free port; yields its URL."
    handler = functools.partial(type('Quiet', (SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(site))
    srv = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close()


def _offline(page, allowed):
    "Abort every request whose URL does not start with one of `allowed`; returns the list they are recorded in."
    blocked = []
    def route(r):
        if r.request.url.startswith(allowed): r.continue_()
        else: blocked.append(r.request.url); r.abort()
    page.route('**/*', route)
    return blocked


def _search(page, word):
    "Type `word` into the sidebar search, wait for Sphinx's results; returns the result links' texts."
    page.fill('.sidebar-search', word); page.press('.sidebar-search', 'Enter')
    page.wait_for_selector('#search-results ul.search li a', timeout=30_000)
    page.wait_for_function("() => !document.querySelector('#search-progress') || !/Searching|Preparing/.test(document.querySelector('#search-progress').textContent)")
    return page.locator('#search-results ul.search li a').all_inner_texts()


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason='no chromium: run `make browser`')
def test_site_in_browser(served):
    with browser() as page:
        blocked = _offline(page, (served + '/',))
        page.goto(f'{served}/index.html'); page.wait_for_load_state('load')
        img = page.locator('img[src*="panel_grid"]').first
        img.scroll_into_view_if_needed()
        page.wait_for_function("(e) => e.complete", arg=img.element_handle())
        assert img.evaluate('e => e.naturalWidth') > 0 and img.is_visible()
        screenshot(page, OUT/'docs_index.png')
        for title, h1 in (('head', 'head'), ('queue', 'queue'), ('API reference', 'API reference')):
            page.locator('.sidebar-tree a', has_text=re.compile(f'^{re.escape(title)}$')).first.click()
            page.wait_for_load_state('load')
            assert page.locator('h1').first.inner_text().strip('#¶ \n') == h1
            screenshot(page, OUT/f"docs_{title.split()[0].lower()}.png")
        hits = _search(page, 'predict_batch')
        assert any('predict_batch' in h for h in hits), hits
        screenshot(page, OUT/'docs_search.png')
        page.locator('#search-results ul.search li a', has_text='predict_batch').first.click()
        page.wait_for_load_state('load')
        assert 'predict_batch' in page.url
        assert not blocked, f'requests to other hosts: {blocked}'
        assert not page.errors, page.errors


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason='no chromium: run `make browser`')
def test_search_from_file(site):
    "Search works from file:// (Sphinx's index is a script, not a fetch)."
    with browser() as page:
        blocked = _offline(page, ('file://',))
        page.goto((site/'index.html').as_uri()); page.wait_for_load_state('load')
        hits = _search(page, 'predict_batch')
        assert any('predict_batch' in h for h in hits), hits
        screenshot(page, OUT/'docs_search_file.png')
        assert not blocked, f'requests to other hosts: {blocked}'
        # Chromium refuses fetch() from file://, which Sphinx uses only for the text snippet under each result.
        assert all(e == 'Failed to fetch' for e in page.errors), page.errors
