"""The labelling panel as a person uses it: JupyterLab in headless Chromium, real key presses, labels read back from SQLite."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import browser, cells, lab, open_notebook, screenshot, write_notebook  # noqa: E402

from hotdog.fixtures import synthetic_dataset  # noqa: E402
from hotdog.store import Store, current_labels, items  # noqa: E402

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
panel = LabelPanel(Queue(st, C, page_size=16, scorer=ZeroShot(C, {'hotdog': 'hotdog'}), policy=Policy('random', cold_labels=0, random_share=0, refit_every=0)))
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
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp('panel')
    synthetic_dataset(root/'syn', 20)
    write_notebook(root/'label.ipynb', [SETUP])
    with lab(root) as jl, browser() as page:
        open_notebook(page, jl, 'label.ipynb')
        page.wait_for_selector('.hotdog-panel .hd-tile img', timeout=60_000)
        yield root, page


def test_grid_keys_label_and_undo(session):
    root, page = session
    page.click('.hotdog-panel .hd-status')          # focus the panel, as an annotator would
    n_cells = len(cells(page, 'label.ipynb'))
    tiles = page.locator('.hotdog-panel .hd-tile')
    assert tiles.count() == 16
    titles = [tiles.nth(i).get_attribute('title') for i in range(16)]
    shown = [tiles.nth(i).locator('.hd-lab').inner_text().split('\n')[0].split(' ')[0] for i in range(16)]
    for i, (t, s) in enumerate(zip(titles, shown)):
        if s != truth(t):
            before = seq(page); page.keyboard.press(CAPS[i]); answered(page, before)
    assert all(s.startswith(truth(t)) for t, s in zip(titles, [tiles.nth(i).locator('.hd-lab').inner_text() for i in range(16)]))
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
                if not tiles.nth(i).locator('.hd-lab').inner_text().startswith(truth(t)):
                    before = seq(page); page.keyboard.press(CAPS[i]); answered(page, before)
            before = seq(page); page.keyboard.press('Enter'); answered(page, before)
            screenshot(page, OUT/'panel_voila.png')
            assert labels(tmp_path) == {Path(t).name: truth(t) for t in titles}
            assert errors == []
            page.close()
    finally:
        import os, signal
        os.killpg(proc.pid, signal.SIGTERM); proc.wait(10)
