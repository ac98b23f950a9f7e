"""The customer demo as a customer meets it: `hotdog app` started as a user starts it (a real process on a free port),
the page in headless Debian Chromium, photos uploaded through the file picker, an example clicked, the server stopped.

Also the helpers `app_server` and `upload` that bench/app.py uses to time uploads in the browser."""
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import CHROMIUM, _free_port, browser, screenshot  # noqa: E402

from hotdog.core import HotdogError  # noqa: E402
from hotdog.datasets import demo_dataset  # noqa: E402
from hotdog.fixtures import make_bad_files  # noqa: E402

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason='no chromium: run `make browser`')
HOTDOG = str(Path(sys.executable).parent/'hotdog')
OUT = Path(__file__).parent/'out'


def kernels(proc) -> list:
    "The ipykernel processes under the `hotdog app` process."
    try: return [p for p in psutil.Process(proc.pid).children(recursive=True) if 'ipykernel_launcher' in ' '.join(p.cmdline())]
    except psutil.NoSuchProcess: return []


@contextmanager
def app_server(*args, timeout=120):
    "`hotdog app` on a free port with `args`; yields .url (with the token) .proc .t0 .lines, and stops it with SIGTERM at exit."
    port = _free_port(); t0 = time.monotonic()
    proc = subprocess.Popen([HOTDOG, 'app', '--port', str(port), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    srv = SimpleNamespace(proc=proc, t0=t0, lines=[], url=None, port=port)
    try:
        while srv.url is None:
            line = proc.stdout.readline()
            if not line: raise RuntimeError(f'hotdog app exited ({proc.wait()}): {proc.stderr.read()[-2000:]}')
            srv.lines.append(line.rstrip())
            m = re.search(r'(http://127\.0\.0\.1:\d+/\?token=\S+)', line)
            if m: srv.url = m.group(1)
            if time.monotonic() - t0 > timeout: raise RuntimeError('hotdog app printed no URL')
        yield srv
    finally:
        ks = kernels(proc)
        proc.send_signal(signal.SIGTERM)
        try: srv.returncode = proc.wait(60)
        except subprocess.TimeoutExpired: proc.kill(); raise
        srv.kernels_left = [k for k in ks if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


def done(page) -> int:
    "Photos the page has answered so far (it shows the newest 12)."
    return int(page.get_attribute('.hd-status', 'data-done'))


def upload(page, files, expect: int, timeout=60_000) -> float:
    "Choose `files` in the page's file picker; wait until the page has answered `expect` photos in all; seconds taken."
    t = time.monotonic()
    with page.expect_file_chooser() as fc: page.click('.hd-app .widget-upload')
    fc.value.set_files([str(f) for f in files])
    page.wait_for_function(f"() => Number(document.querySelector('.hd-status').dataset.done) >= {expect}", timeout=timeout)
    return time.monotonic() - t


def open_app(page, url, timeout=180_000):
    "Load the app page and wait until its widgets are drawn."
    page.failed = []
    page.on('requestfailed', lambda r: page.failed.append(r.url))
    page.requests = []
    page.on('request', lambda r: page.requests.append(r.url))
    page.goto(url)
    page.wait_for_selector('.hd-app .widget-upload', timeout=timeout)


def demo_photos() -> list:
    try: m = demo_dataset()
    except HotdogError as e: pytest.skip(f'no demo photos: {e}')
    df = pd.read_csv(m)
    return [m.parent/p for p in df.path]


def test_bad_head_is_one_line_and_exit_1(tmp_path):
    (tmp_path/'notes.pt').write_text('not a model')
    r = subprocess.run([HOTDOG, 'app', '--head', tmp_path/'notes.pt', '--port', str(_free_port())], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stdout == '', r
    assert r.stderr.strip() == f'hotdog: error: {tmp_path}/notes.pt is not a readable checkpoint (UnpicklingError)', r.stderr


def test_upload_examples_and_bad_files(tmp_path):
    photos = demo_photos()
    bad = make_bad_files(tmp_path/'bad')
    big = tmp_path/'big.jpg'; big.write_bytes(os.urandom(50 * 2**20))
    dog = next(p for p in photos if 'food/' in str(p))
    with app_server() as srv, browser() as page:
        open_app(page, srv.url)
        t_page = time.monotonic() - srv.t0
        assert page.locator('.hd-example').count() >= 4                       # the gallery of demo photos
        assert 'runs' in page.inner_text('.hd-card-table').lower() and 'offline' in page.inner_text('.hd-card-table')
        secs = upload(page, [dog], 1)
        t_first = time.monotonic() - srv.t0
        card = page.locator('.hd-result').first
        assert card.locator('.hd-bar').count() == 2 and card.locator('.hd-bar.hd-shown').count() == 1
        assert card.locator('.hd-top5 li').count() == 5
        assert 'Zero-shot (ImageNet): hot dog' in card.inner_text()
        assert page.evaluate("() => document.querySelector('.hd-result img.hd-heat').naturalWidth") == 400
        screenshot(page, OUT/'app_result.png')
        # A broken file: a one-line message; then the page still scores photos.
        upload(page, [tmp_path/'bad'/'text.jpg'], 2)
        assert page.locator('.hd-message').first.inner_text().strip() == 'text.jpg: not an image Pillow can read'
        # Every awkward file at once: usable ones scored (CMYK, 16-bit, EXIF-rotated...), the rest one line each.
        upload(page, [tmp_path/'bad'/n for n in bad], 2 + len(bad), timeout=120_000)
        msgs = [m.inner_text().strip() for m in page.locator('.hd-message').all()]
        for name, why in bad.items():
            if why: assert any(m.startswith(f'{name}: ') and why in m for m in msgs), (name, msgs)
        assert len(msgs) == sum(1 for why in bad.values() if why)         # the newest 12 cards: these files' answers
        upload(page, [big], 3 + len(bad), timeout=120_000)
        assert page.locator('.hd-message').first.inner_text().strip() == 'big.jpg: too large (50 MB; the demo takes photos up to 20 MB)'
        # Upload latency, one photo at a time, after the first.
        n0, lat = done(page), []
        for k, p in enumerate(photos[::40][:6]):
            lat.append(upload(page, [p], n0 + k + 1))
        # An example, clicked.
        n = done(page)
        page.locator('.hd-example').nth(1).click()
        page.wait_for_function(f"() => Number(document.querySelector('.hd-status').dataset.done) > {n}", timeout=60_000)
        assert page.locator('.hd-result').first.locator('img.hd-heat').count() == 1
        screenshot(page, OUT/'app_example.png')
        page.set_viewport_size({'width': 420, 'height': 900})
        page.evaluate('() => window.scrollTo(0, 0)')
        screenshot(page, OUT/'app_narrow.png')
        rss = [k.memory_info().rss / 2**20 for k in kernels(srv.proc)]
        assert page.failed == [], page.failed                                 # nothing failed to load
        outside = [u for u in page.requests if not u.startswith(f'http://127.0.0.1:{srv.port}/') and not u.startswith('data:')]
        assert outside == [], outside                                       # nothing from the internet
        assert page.errors == [], page.errors
    assert srv.returncode == 0 and srv.kernels_left == [], (srv.returncode, srv.kernels_left)
    err = srv.proc.stderr.read()
    assert 'Traceback' not in err, err
    lat.sort()
    print(f'\npage ready {t_page:.1f} s after `hotdog app` started; first result {t_first:.1f} s after (upload {secs:.2f} s); '
          f'uploads p50 {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s over {len(lat)}; kernel RSS {", ".join(f"{r:.0f}" for r in rss)} MB')
