"""The labelling panel as a person uses it: JupyterLab in headless Chromium, real key presses, labels read back from SQLite."""
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import browser, cells, kernel_execute, lab, open_notebook, screenshot, set_layout, write_notebook  # noqa: E402

from hotdog.fixtures import synthetic_dataset  # noqa: E402
from hotdog.store import Store, current_labels, history, items  # noqa: E402

OUT = Path(__file__).parent/'out'
CAPS = '12345678qwertyui'  # tile keys of a 16-tile page with 8 columns: the top two keyboard rows
SETUP = '''from hotdog.data import ingest
from hotdog.store import Store, add_dataset
from hotdog.acquire import Policy
from hotdog.prior import ZeroShot
from hotdog.queue import Queue
from hotdog.panel import LabelPanel
C = ['hotdog', 'not_hotdog']
st = Store('labels.sqlite', annotator='browser'); add_dataset(st, ingest('syn', progress=False))
panel = LabelPanel(Queue(st, C, mode='grid', page_size=16, scorer=ZeroShot(C, {'hotdog': 'hotdog'}), policy=Policy('random', cold_labels=0, random_share=0, refit_every=0)))
panel'''


def labels(root):
    "Current labels in the store, by file name, read through a connection of our own."
    st = Store(root/'labels.sqlite', annotator='reader')
    cur = current_labels(st).merge(items(st)[['hash', 'path']], left_on='item', right_on='hash'); st.close()
    return {Path(p).name: lab for p, lab in zip(cur.path, cur.label)}


def answered(page, before):
    "Wait until the panel has drawn the kernel's answer to the last key."
    page.wait_for_function(f"() => Number(document.querySelector('.hotdog-panel').dataset.answered || 0) > {before}", timeout=20_000)
    return int(page.evaluate("() => document.querySelector('.hotdog-panel').dataset.answered"))


def seq(page): return int(page.evaluate("() => document.querySelector('.hotdog-panel').dataset.answered || 0"))


def truth(title): return 'not_hotdog' if '/not_hotdog/' in title else 'hotdog'


@pytest.fixture(scope='module')
def lab_page(tmp_path_factory):
    "One Lab and browser for the module (the tests below that open other notebooks come last)."
    root = tmp_path_factory.mktemp('panel')
    synthetic_dataset(root/'syn', 20)
    with lab(root) as jl, browser() as page: yield root, jl, page


@pytest.fixture(scope='module')
def session(lab_page):
    root, jl, page = lab_page
    write_notebook(root/'label.ipynb', [SETUP])
    open_notebook(page, jl, 'label.ipynb')
    page.wait_for_selector('.hotdog-panel .hd-tile img', timeout=60_000)
    return root, page


def test_grid_keys_label_and_undo(session):
    root, page = session
    page.click('.hotdog-panel .hd-status')          # focus the panel, as an annotator would
    n_cells = len(cells(page, 'label.ipynb'))
    tiles = page.locator('.hotdog-panel .hd-tile')
    assert tiles.count() == 16
    titles = [tiles.nth(i).get_attribute('title') for i in range(16)]
    shown = [tiles.nth(i).locator('.hd-lab span').inner_text().split('\n')[0].split(' ')[0] for i in range(16)]
    for i, (t, s) in enumerate(zip(titles, shown)):
        if s != truth(t):
            before = seq(page); page.keyboard.press(CAPS[i]); answered(page, before)
    assert all(s.startswith(truth(t)) for t, s in zip(titles, [tiles.nth(i).locator('.hd-lab span').inner_text() for i in range(16)]))
    screenshot(page, OUT/'panel_grid_flipped.png')
    before = seq(page); page.keyboard.press('Enter'); answered(page, before)
    got = labels(root)
    assert got == {Path(t).name: truth(t) for t in titles}          # the page is in the store, right
    screenshot(page, OUT/'panel_grid_next.png')
    before = seq(page); page.keyboard.press('Backspace'); answered(page, before)
    assert labels(root) == {}                                          # the whole page undone
    before = seq(page); page.keyboard.press('Enter'); answered(page, before)
    assert len(labels(root)) == 16
    # `b` and `a` are JupyterLab's "insert cell" keys, and `z` is not a tile on this page: all stay in the panel.
    for k in 'baz':
        page.keyboard.press(k)
    page.wait_for_selector('.hotdog-panel .hd-hint.on')
    assert 'does nothing here' in page.inner_text('.hotdog-panel .hd-hint')
    assert len(cells(page, 'label.ipynb')) == n_cells
    assert page.errors == []


def test_screen_dims_only_when_slow(session):
    "A key whose answer takes over 150 ms dims the screen until the answer comes; a fast answer leaves the screen's style alone."
    root, page = session
    page.click('.hotdog-panel .hd-status')
    page.evaluate("""() => { const r = document.querySelector('.hotdog-panel'); window.dimmed = [];
      new MutationObserver(() => window.dimmed.push(r.classList.contains('hd-saving'))).observe(r, {attributes: true, attributeFilter: ['class']}); }""")
    before = seq(page); page.keyboard.press(CAPS[0]); answered(page, before)
    if page.evaluate('window.hotdogLatencies.at(-1)') < 120: assert True not in page.evaluate('window.dimmed')  # a fast answer: never dimmed
    kernel_execute(page, 'label.ipynb', 'import time\n_flip = panel.queue.flip\npanel.queue.flip = lambda *a, **k: (time.sleep(0.6), _flip(*a, **k))[1]')
    try:
        page.evaluate('window.dimmed = []')
        before = seq(page); page.keyboard.press(CAPS[0])
        page.wait_for_selector('.hotdog-panel.hd-saving', timeout=2000)  # dimmed while the kernel is still answering
        answered(page, before)
        assert not page.evaluate("document.querySelector('.hotdog-panel').classList.contains('hd-saving')")  # and no longer once it has
        assert page.evaluate('window.dimmed')[0] is True
    finally:
        kernel_execute(page, 'label.ipynb', 'panel.queue.flip = _flip')
    assert page.errors == []


def test_single_mode_keys(session):
    root, page = session
    page.click('.hotdog-panel .hd-status')
    before = seq(page); page.keyboard.press('`'); answered(page, before)
    page.wait_for_selector('.hotdog-panel .hd-single img.hd-big')
    name = page.inner_text('.hotdog-panel .hd-name')
    screenshot(page, OUT/'panel_single.png')
    before = seq(page); page.keyboard.press('1'); answered(page, before)  # class 1: hotdog
    assert labels(root)[name] == 'hotdog'
    nxt = page.inner_text('.hotdog-panel .hd-name')
    before = seq(page); page.keyboard.press('s'); answered(page, before)
    assert nxt not in labels(root) and page.inner_text('.hotdog-panel .hd-name') != nxt
    before = seq(page); page.keyboard.press('Backspace'); answered(page, before)  # undo the skip: back on screen
    assert page.inner_text('.hotdog-panel .hd-name') == nxt
    lat = page.evaluate('window.hotdogLatencies')
    assert len(lat) >= 8
    print(f'key-to-screen latency over {len(lat)} keys: median {sorted(lat)[len(lat)//2]:.0f} ms, max {max(lat):.0f} ms')
    assert page.errors == []


def test_voila_standalone_page(session, tmp_path):
    "The same notebook as a page of its own under Voilà: keys label into the same store."
    import secrets, socket, subprocess, time
    synthetic_dataset(tmp_path/'syn', 10)
    write_notebook(tmp_path/'label.ipynb', [SETUP])
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    token = secrets.token_hex(8)
    voila = Path(sys.executable).parent/'voila'
    proc = subprocess.Popen([str(voila), 'label.ipynb', '--no-browser', '--Voila.ip=127.0.0.1', f'--port={port}', f'--token={token}'],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(300):  # until Voilà listens (a page request would already start a kernel)
            try: socket.create_connection(('127.0.0.1', port), timeout=1).close(); break
            except OSError: time.sleep(0.2)
        page = session[1].context.new_page()  # a second tab of the same browser (one Playwright per process)
        errors = []; page.on('pageerror', lambda e: errors.append(str(e)))
        if True:
            page.goto(f'http://127.0.0.1:{port}/?token={token}')
            page.wait_for_selector('.hotdog-panel .hd-tile img', timeout=90_000)
            page.click('.hotdog-panel .hd-status')
            tiles = page.locator('.hotdog-panel .hd-tile')
            titles = [tiles.nth(i).get_attribute('title') for i in range(tiles.count())]
            for i, t in enumerate(titles):
                if not tiles.nth(i).locator('.hd-lab span').inner_text().startswith(truth(t)):
                    before = seq(page); page.keyboard.press(CAPS[i]); answered(page, before)
            before = seq(page); page.keyboard.press('Enter'); answered(page, before)
            screenshot(page, OUT/'panel_voila.png')
            assert labels(tmp_path) == {Path(t).name: truth(t) for t in titles}
            assert errors == []
            page.close()
    finally:
        import os, signal
        os.killpg(proc.pid, signal.SIGTERM); proc.wait(10)



# A panel whose kernel sends the next page (`ahead`) late, as a busy kernel may: the race of issue 12, where the browser
# rebuilt the page on screen off-screen and took its pictures, so Enter accepted a page of blank tiles.
RACE = SETUP.replace("'labels.sqlite'", "'race.sqlite'").replace("ingest('syn'", "ingest('syn_race'").replace(
    "panel = LabelPanel(", """import threading
class LateAhead(LabelPanel):
    def send_state(self, key=None):
        if key == 'ahead': threading.Timer(0.25, super().send_state, kwargs={'key': key}).start()
        else: super().send_state(key)
panel = LateAhead(""").replace('refit_every=0', 'refit_every=16')

# Installed by the test, not the panel: at each Enter (before the panel sees it) the file names of the tiles whose
# picture is painted, visible and inside the window, with the class each tile shows.
SNAPSHOT = """() => { window.testShots = [];
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const seen = (im) => { const r = im.getBoundingClientRect();
      return im.complete && im.naturalWidth > 0 && getComputedStyle(im).visibility === 'visible' && r.width > 8
        && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight; };
    window.testShots.push(Object.fromEntries([...document.querySelectorAll('.hotdog-panel .hd-tile')]
      .filter((d) => d.querySelector('img') && seen(d.querySelector('img')))
      .map((d) => [d.title, d.querySelector('.hd-lab span').textContent.split(' ')[0]])));
  }, true); }"""


def refitting_panel(lab_page, name, source, per_class, setup=None):
    "Open a notebook `name` whose panel (`source`) labels `per_class` synthetic images of each class; flip its first tile so that the first page holds both classes and a refit starts."
    root, jl, page = lab_page
    synthetic_dataset(root/f'syn_{name}', per_class)
    write_notebook(root/f'{name}.ipynb', [source])
    open_notebook(page, jl, f'{name}.ipynb')
    page.wait_for_selector('.hotdog-panel .hd-tile img', timeout=60_000)
    page.evaluate("() => document.querySelector('.hotdog-panel').scrollIntoView({block: 'start'})")
    page.click('.hotdog-panel .hd-status')
    if setup: page.evaluate(setup)
    before = seq(page); page.keyboard.press('1'); answered(page, before)
    return root, page


def test_no_label_without_its_picture(lab_page):
    "Pages turned back to back during refits, the next page sent late: every label written was of a picture on screen."
    root, page = refitting_panel(lab_page, 'race', RACE, 100, SNAPSHOT)
    from playwright.sync_api import TimeoutError as Timeout
    for k in range(24):
        before = seq(page); page.keyboard.press('Enter')
        if k % 4 == 3: continue          # now and then the next Enter before any answer
        try: page.wait_for_function(f"() => Number(document.querySelector('.hotdog-panel').dataset.answered || 0) > {before}", timeout=1500)
        except Timeout: pass             # refused in the browser (not shown yet): no answer to wait for
    time.sleep(1.0)
    kernel_execute(page, 'race.ipynb', 'panel.queue.wait()')
    kernel_execute(page, 'race.ipynb', 'q = panel.queue; assert q.fits >= 1, (q.fits, q.error, len(q.labelled), q.since_fit)')
    shots = page.evaluate('window.testShots')  # per Enter: {path: class shown}
    during_refit = [x for x in page.evaluate('window.hotdogPhases') if x['action'] == 'accept' and x.get('fitting')]
    st = Store(root/'race.sqlite', annotator='reader')
    ev = history(st).merge(items(st)[['hash', 'path']], left_on='item', right_on='hash'); st.close()
    ev = ev[ev.kind == 'label']
    pages = [dict(zip(g.path, g.label)) for _, g in ev.groupby('action')]  # per accepted page: {path: class written}
    drawn = Counter(x.get('how') for x in page.evaluate('window.hotdogPhases') if x['action'] == 'accept')
    print(f'{len(pages)} pages accepted ({len(during_refit)} while a refit ran), {len(shots)} Enter presses; new pages {dict(drawn)}')
    unseen = [sorted(set(p) - set(max(shots, key=lambda s: len(set(p) & set(s)))))[:3] for p in pages if not any(set(p) <= set(s) for s in shots)]
    assert not unseen, f'{len(unseen)} of {len(pages)} accepted pages had tiles that were not on screen, e.g. {unseen[0]}'
    # The class written is the class the tile showed (a page built ahead before a refit gets the new suggestions patched in).
    differ = [p for p in pages if not any(all(s.get(k) == v for k, v in p.items()) for s in shots)]
    assert not differ, f'{len(differ)} of {len(pages)} accepted pages were written with classes their tiles did not show'
    assert len(pages) >= 5 and during_refit, (len(pages), len(during_refit))
    assert page.errors == []


AHEAD = SETUP.replace("'labels.sqlite'", "'ahead.sqlite'").replace("ingest('syn'", "ingest('syn_ahead'").replace('refit_every=0', 'refit_every=16')


def test_every_page_built_ahead(lab_page):
    "At a person's pace, with a refit after every page (which re-sorts the next page by its new suggestions), each new page was the one built ahead."
    root, page = refitting_panel(lab_page, 'ahead', AHEAD, 40)
    for k in range(4):
        time.sleep(1.0)  # looking at the page: its next page's pictures come, and the refit of the last page is in
        if k == 3:  # the next page re-sorted in the kernel after the browser built it (a refit landing just before the key)
            kernel_execute(page, 'ahead.ipynb', 'q = panel.queue; q.wait()\nwith q._lock: q.ahead = q.ahead[::-1]')
        before = seq(page); page.keyboard.press('Enter'); answered(page, before)
        tiles = page.evaluate("() => [...document.querySelectorAll('.hotdog-panel .hd-tile')].map((d) => [d.dataset.item, d.querySelector('.hd-cap').textContent, JSON.parse(d.dataset.act).i])")
        assert [t[1:] for t in tiles] == [[c, i] for i, c in enumerate(CAPS)], tiles  # keys and flips in the page's order after a swap
    kernel_execute(page, 'ahead.ipynb', f'assert [t["item"] for t in panel.queue.page] == {[t[0] for t in tiles]!r}')  # the kernel's order
    kernel_execute(page, 'ahead.ipynb', 'panel.queue.wait(); assert panel.queue.fits >= 1, (panel.queue.fits, panel.queue.error)')
    turns = [x for x in page.evaluate('window.hotdogPhases') if x['action'] == 'accept']
    assert [x['how'] for x in turns] == ['built ahead'] * 4 and any(x['fitting'] for x in turns), turns
    assert page.errors == []


def tiles_in_view(page):
    "For each tile: its picture is painted and the tile lies inside the window and every box that clips it."
    return page.evaluate("""() => {
      const root = document.querySelector('.hotdog-panel');
      return [...root.querySelectorAll('.hd-tile')].map((d) => {
        const r = d.getBoundingClientRect(); let box = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
        for (let a = d.parentElement; a && a !== document.body; a = a.parentElement) {   // the body's overflow is the viewport's
          const cs = getComputedStyle(a);
          if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') { const q = a.getBoundingClientRect();
            box = { left: Math.max(box.left, q.left), top: Math.max(box.top, q.top), right: Math.min(box.right, q.right), bottom: Math.min(box.bottom, q.bottom) }; }
        }
        const im = d.querySelector('img');
        return r.left >= box.left - 0.5 && r.top >= box.top - 0.5 && r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5
          && !!im && im.complete && im.naturalWidth > 0;
      });
    }""")


def test_grid_fits_beside_the_file_browser(lab_page):
    "A 40-tile page in a 1280x800 window: every tile visible without scrolling, with the file browser open and closed."
    root, jl, page = lab_page
    write_notebook(root/'fit.ipynb', [SETUP.replace("'labels.sqlite'", "'fit.sqlite'").replace('page_size=16', 'page_size=40')])
    open_notebook(page, jl, 'fit.ipynb', file_browser=True)
    page.wait_for_selector('.hotdog-panel .hd-tile img', timeout=60_000)
    sizes = {}
    for files in (True, False, True):
        set_layout(page, files)
        page.evaluate("() => document.querySelector('.hotdog-panel').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        left = page.evaluate("() => document.querySelector('#jp-left-stack').offsetWidth")
        assert (left >= 200) == files, left                     # the file browser as a fresh Lab opens it (about 250 px)
        seen = tiles_in_view(page)
        screenshot(page, OUT/f"panel_fit_{'files' if files else 'full'}.png")
        assert len(seen) == 40 and all(seen), f'file browser {files}: tiles {[i for i, s in enumerate(seen) if not s]} cut off'
        sizes[files] = int(page.evaluate("() => document.querySelector('.hotdog-panel').dataset.tile"))
    assert sizes[True] < sizes[False], sizes                     # the tiles follow the panel's real width
    assert page.errors == []


# Triage (`Queue(sure=)`): a scorer 99% sure of two items in three and 60% sure of the others, both times of 'hotdog'.
TRIAGE = SETUP.replace("'labels.sqlite'", "'triage.sqlite'").replace("ingest('syn'", "ingest('syn_triage'").replace(
    "panel = LabelPanel(", """import numpy as np
class Mixed:
    classes, name = C, 'mixed'
    def predict_proba(self, X): p = np.where(np.round(np.asarray(X).sum(1) * 1000) % 3 == 0, 0.6, 0.99); return np.stack([p, 1 - p], 1)
panel = LabelPanel(""").replace("mode='grid'", "mode='auto'").replace("scorer=ZeroShot(C, {'hotdog': 'hotdog'})", 'scorer=Mixed()').replace(
    "refit_every=0)))", "refit_every=0), sure=0.05))")


def test_triage_screens(lab_page):
    "Triage switches between grid pages and single images as the items come: each label written is the one the screen showed or the key chose."
    root, jl, page = lab_page
    synthetic_dataset(root/'syn_triage', 20)
    write_notebook(root/'triage.ipynb', [TRIAGE])
    open_notebook(page, jl, 'triage.ipynb')
    page.wait_for_selector('.hotdog-panel [data-item] img', timeout=60_000)
    page.click('.hotdog-panel .hd-status')
    chosen, screens = {}, []
    for _ in range(60):
        if page.locator('.hotdog-panel .hd-done').count(): break
        if page.locator('.hotdog-panel .hd-single').count():
            name = page.inner_text('.hotdog-panel .hd-name')
            key = '2' if len(screens) % 2 else 'Enter'   # every other single image labelled not_hotdog, against the suggestion
            chosen[name] = 'not_hotdog' if key == '2' else 'hotdog'; screens.append('single')
        else:
            tiles = page.locator('.hotdog-panel .hd-tile')
            for i in range(tiles.count()):
                chosen[Path(tiles.nth(i).get_attribute('title')).name] = tiles.nth(i).locator('.hd-lab span').inner_text().split('\n')[0].split(' ')[0]
            key = 'Enter'; screens.append(f'grid{tiles.count()}')
            if len(screens) == 2: screenshot(page, OUT/'panel_triage_grid.png')
        before = seq(page); page.keyboard.press(key); answered(page, before)
    print('triage screens:', ' '.join(screens))
    screenshot(page, OUT/'panel_triage_done.png')
    st = Store(root/'triage.sqlite', annotator='reader')
    cur = current_labels(st).merge(items(st)[['hash', 'path']], left_on='item', right_on='hash'); st.close()
    assert {Path(p).name: lab for p, lab in zip(cur.path, cur.label)} == chosen and len(chosen) == 40, screens
    assert screens[0] == 'grid10' and screens.count('single') >= 5 and any(s.startswith('grid') for s in screens[1:]), screens
    assert page.errors == []
