"""Labels per minute: pigeon vs hotdog's panel (single and grid), one JupyterLab + Chromium session, 200 demo photos.

A scripted annotator that knows the true labels does the work in the browser; each tool's latency (key or click ->
next screen painted) is measured in the page. Labels per minute are then costed with the Keystroke-Level Model:
keystroke 0.28 s; mouse point 1.1 s + click 0.2 s; a mental decision 1.35 s per single-image label or per grid page;
a 0.2 s glance per grid tile; plus the measured latency of every action. Prints the ratio of ours to pigeon's.
The scripted annotator waits `--pace` times the model's think time before each action (default 0.2), so the
tools get some of the idle time a person gives them (prefetch, refits) instead of a machine-gun of keys.

Usage: .venv/bin/python bench/annotate.py [--n 200] [--page 32] [--no-nodelay]
"""
import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pigeon import label_with_pigeon, pct  # noqa: E402
from browser import browser, kernel_execute, lab, open_notebook, screenshot, write_notebook  # noqa: E402

from hotdog.datasets import demo_dataset  # noqa: E402
from hotdog.panel import _cols  # noqa: E402
from hotdog.store import Store, current_labels, items  # noqa: E402

KEY, POINT, CLICK, MENTAL, GLANCE = 0.28, 1.1, 0.2, 1.35, 0.2
CLASSES = ['food', 'not_food']
ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl;', 'zxcvbnm,./']
PANEL = '''from hotdog.data import ingest
from hotdog.store import Store, add_dataset
from hotdog.acquire import Policy
from hotdog.prior import ZeroShot
from hotdog.queue import Queue
from hotdog.panel import LabelPanel
C = {classes!r}
st = Store({store!r}, annotator='bench'); add_dataset(st, ingest({manifest!r}, progress=False))
panel = LabelPanel(Queue(st, C, mode={mode!r}, page_size={page}, scorer=ZeroShot(C, {{'food': 'food'}}), policy=Policy.from_name({policy!r})))
panel'''


def pick(n, seed=0):
    "n demo photos at random (the demo's own class balance), and the true label of each."
    manifest = Path(demo_dataset())
    df = pd.read_csv(manifest); df['path'] = [str(manifest.parent/p) for p in df.path]
    df = df[~df.path.map(lambda p: Path(p).name).duplicated(keep=False)].sample(n, random_state=seed)  # a name shows one photo
    return list(df.path), dict(zip(df.path, df.label))


def answered(page, before):
    page.wait_for_function(f"() => Number(document.querySelector('.hotdog-panel').dataset.answered || 0) > {before}", timeout=60_000)


def seq(page): return int(page.evaluate("() => document.querySelector('.hotdog-panel').dataset.answered || 0"))


def press(page, key):
    before = seq(page); page.keyboard.press(key); answered(page, before)


def done(page): return page.locator('.hotdog-panel .hd-done').count() > 0


def run_grid(page, truth, cols, pace):
    "Flip the wrong tiles, accept the page; returns pages, keys, tiles."
    pages = keys = tiles = 0
    while not done(page):
        els = page.locator('.hotdog-panel .hd-tile'); n = els.count()
        time.sleep(pace * (MENTAL + GLANCE * n))
        for i in range(n):
            t = els.nth(i); shown = t.locator('.hd-lab span').inner_text().split(' ')[0].split('\n')[0]
            if shown != truth[t.get_attribute('title')]:
                time.sleep(pace * KEY); press(page, ROWS[i // cols][i % cols]); keys += 1
        time.sleep(pace * KEY); press(page, 'Enter'); keys += 1; pages += 1; tiles += n
    return pages, keys, tiles


def run_single(page, truth, pace):
    "Enter when the suggestion is right, else the class key; returns labels, keys."
    labels = 0
    while not done(page):
        name = page.inner_text('.hotdog-panel .hd-name')
        want = next(v for k, v in truth.items() if Path(k).name == name)
        sugg = page.locator('.hotdog-panel .hd-sugg b')
        key = 'Enter' if sugg.count() and sugg.inner_text() == want else str(CLASSES.index(want) + 1)
        time.sleep(pace * (MENTAL + KEY)); press(page, key); labels += 1
    return labels, labels


def store_labels(path):
    "Current labels of the store at `path`, by item path."
    st = Store(path, annotator='reader')
    cur = current_labels(st).merge(items(st)[['hash', 'path']], left_on='item', right_on='hash'); st.close()
    return dict(zip(cur.path, cur.label))


def ours(page, jl, root, examples, truth, mode, page_size, policy, pace, run=''):
    demo = Path(demo_dataset()).parent  # a manifest lists files under its own folder
    manifest = demo/f'bench_{mode}.csv'; pd.DataFrame({'path': [str(Path(p).relative_to(demo)) for p in examples]}).to_csv(manifest, index=False)
    name = f'{mode}{run}'
    write_notebook(root/f'{name}.ipynb', [PANEL.format(classes=CLASSES, store=f'{name}.sqlite', manifest=str(manifest), mode=mode,
                                                       page=page_size, policy=policy)])
    open_notebook(page, jl, f'{name}.ipynb')
    page.wait_for_selector('.hotdog-panel img', timeout=120_000)
    page.evaluate('() => { window.hotdogLatencies = []; window.hotdogPhases = []; document.querySelector(".jp-InputArea").style.display = "none"; }')
    page.click('.hotdog-panel .hd-status')
    box = page.locator('.hotdog-panel').bounding_box(); tile = page.locator('.hotdog-panel .hd-tile, .hotdog-panel .hd-big').first.bounding_box()
    screenshot(page, root/f'{name}.png')
    t = time.perf_counter()
    if mode == 'grid': pages, keys, n = run_grid(page, truth, _cols(page_size), pace)
    else: (n, keys), pages = run_single(page, truth, pace), 0
    wall = time.perf_counter() - t
    lat = page.evaluate('window.hotdogLatencies')
    ph = page.evaluate('window.hotdogPhases')
    for part in ('kernel', 'draw', 'paint'):
        xs = [x[part] for x in ph]; print(f'  {mode}: {part:6} p50 {pct(xs, 50):5.1f} ms  p95 {pct(xs, 95):5.1f} ms')
    slow = sorted(ph, key=lambda x: -(x['kernel'] + x['draw'] + x['paint']))[:3]
    print(f'  {mode}: slowest', ', '.join('/'.join(f'{x[k]:.0f}' for k in ('kernel', 'draw', 'paint')) + f" ({x['action']})" for x in slow))
    out = root/f'{name}_kernel_ms.json'
    kernel_execute(page, f'{name}.ipynb', f'import json; json.dump(list(panel.timings), open({str(out)!r}, "w"))')
    km = json.loads(out.read_text())
    for act in ('flip', 'accept', 'submit'):
        q = [x[1] + x[2] for x in km if x[0] == act]
        if q: print(f'  {mode}: in the kernel, {act:6} p50 {pct(q, 50):5.1f} ms  p95 {pct(q, 95):5.1f} ms  (n={len(q)})')
    got = store_labels(root/f'{name}.sqlite')
    assert got == {p: truth[p] for p in examples}, 'the store does not hold the true labels'
    return {'labels': n, 'keys': keys, 'pages': pages, 'lat': lat, 'wall': wall, 'panel_px': (box['width'], box['height'], box['y']),
            'tile_px': tile['width']}


def klm(tool, r):
    "Seconds of annotator time for the whole run, by the Keystroke-Level Model plus measured latency."
    mean = sum(r['lat']) / max(1, len(r['lat'])) / 1000
    lat = r['actions'] * mean  # every action waits for its next screen (pigeon's last click has none measured: the mean)
    if tool == 'pigeon': return r['labels'] * (POINT + CLICK + MENTAL) + lat
    if tool == 'single': return r['keys'] * KEY + r['labels'] * MENTAL + lat
    return r['pages'] * MENTAL + r['labels'] * GLANCE + r['keys'] * KEY + lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=200); ap.add_argument('--page', type=int, default=40)
    ap.add_argument('--no-nodelay', action='store_true', help='stock Jupyter server (Nagle on kernel websockets)')
    ap.add_argument('--policy', default='default', help='the queue\'s labelling policy by name (see hotdog.acquire.Policy.from_name; default: the queue\'s default)')
    ap.add_argument('--pace', type=float, default=0.2, help='share of the KLM think time the scripted annotator waits')
    ap.add_argument('--grid-runs', type=int, default=3, help='grid runs whose latencies are pooled (KLM counts come from the first)')
    args = ap.parse_args()
    examples, truth = pick(args.n)
    root = Path(__file__).resolve().parent/'out'/'annotate'; shutil.rmtree(root, ignore_errors=True); root.mkdir(parents=True)
    res = {}
    with lab(root, nodelay=not args.no_nodelay) as jl, browser() as page:
        p = label_with_pigeon(page, jl, examples, truth, CLASSES, root/'pigeon', think=args.pace * (POINT + CLICK + MENTAL))
        assert p['matches_truth']
        res['pigeon'] = {'labels': p['labels'], 'keys': p['clicks'], 'actions': p['clicks'], 'lat': p['latencies_ms']}
        for mode in ('single', 'grid'):
            r = ours(page, jl, root, examples, truth, mode, args.page, args.policy, args.pace); r['actions'] = r['keys']; res[mode] = r
        # A grid run has few actions (a key per page and per wrong tile): repeat it on fresh stores to pool latencies.
        for k in range(2, args.grid_runs + 1):
            res['grid']['lat'] += ours(page, jl, root, examples, truth, 'grid', args.page, args.policy, args.pace, run=k)['lat']
        assert page.errors == [], page.errors
    print(f"{args.n} demo photos ({sum(v == 'food' for v in truth.values())} food), grid page {args.page}, policy {args.policy}, pace {args.pace}, "
          f"server {'stock' if args.no_nodelay else 'with hotdog.server (TCP_NODELAY)'}")
    g = res['grid']
    print(f"grid panel {g['panel_px'][0]:.0f}x{g['panel_px'][1]:.0f} px from y={g['panel_px'][2]:.0f} in a 1280x800 viewport, tiles {g['tile_px']:.0f} px")
    print(f"{'tool':8} {'labels':>6} {'actions':>7} {'act/label':>9} {'p50 ms':>7} {'p95 ms':>7} {'n lat':>5} {'KLM s':>7} {'labels/min':>10} {'vs pigeon':>9}")
    base = None
    for tool in ('pigeon', 'single', 'grid'):
        r = res[tool]; secs = klm(tool, r); lpm = 60 * r['labels'] / secs; base = base or lpm
        print(f"{tool:8} {r['labels']:6d} {r['actions']:7d} {r['actions'] / r['labels']:9.2f} {pct(r['lat'], 50):7.0f} {pct(r['lat'], 95):7.0f} {len(r['lat']):5d} "
              f"{secs:7.1f} {lpm:10.1f} {lpm / base:8.1f}x")
    print('screenshots and notebooks in', root)


if __name__ == '__main__':
    main()
