"""Labels per minute: pigeon vs hotdog's panel (single and grid), one JupyterLab + Chromium session, 200 demo photos.

A scripted annotator that knows the true labels does the work in the browser; each tool's latency (key or click ->
next screen shown, every picture painted) is measured in the page. Labels per minute are then costed with the
Keystroke-Level Model: keystroke K 0.28 s; mouse point 1.1 s + click 0.2 s; a mental decision M 1.35 s per
single-image label or per grid page; a 0.2 s glance per grid tile; plus the measured latency of every action.
Two costings of the grid: `klm` (one M per page) and `strict` (one more M per corrected tile: deciding that a tile
is wrong is a decision, not only a key). Prints the ratio of ours to pigeon's under each.

Latency is split by kind: page turn (Enter -> next page's tiles painted), flip (tile key -> tile repainted), single
(class key or Enter -> next image painted). The queue runs its policy as in use (`--policy default`: `Policy()`), so it
refits in the background every `refit_every` labels: the bench reports how many page turns a refit overlapped.
The screen may switch mode on its own (a policy may send some items one at a time): each screen is costed in its mode.

The scripted annotator waits `--pace` times the model's think time before each action (default 0.2; 0 is
back-to-back keys), so the tools get some of the idle time a person gives them (prefetch, refits).
`--server plain` (the default) is a plain `jupyter lab`: hotdog.server is loaded only if the environment's
config enables it (a regular install does; see nbs/05a_server.ipynb); `on`/`off` force it.

Usage: .venv/bin/python bench/annotate.py [--n 200] [--page 40] [--pace 0.2] [--server plain|on|off] [--tools pigeon,single,grid]
       [--refit-every N]
"""
import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pigeon import label_with_pigeon, pct  # noqa: E402
from browser import browser, kernel_execute, lab, open_notebook, screenshot, write_notebook  # noqa: E402

from hotdog.acquire import KLM  # noqa: E402
from hotdog.datasets import demo_dataset  # noqa: E402
from hotdog.panel import _cols  # noqa: E402
from hotdog.store import Store, current_labels, items  # noqa: E402

KEY, POINT, CLICK, MENTAL, GLANCE = KLM['key'], KLM['point'], KLM['click'], KLM['decide'], KLM['glance']  # the costs the queue's auto mode uses
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
panel = LabelPanel(Queue(st, C, mode={mode!r}, page_size={page}, scorer=ZeroShot(C, {{'food': 'food'}}), policy=Policy.from_name({policy!r}, **{policy_kw!r}), sure={sure!r}))
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


def on_screen(page):
    "'grid', 'single' or 'done': what the panel shows now."
    return page.evaluate("""() => { const r = document.querySelector('.hotdog-panel');
      return r.querySelector('.hd-done') ? 'done' : r.querySelector('.hd-grid') ? 'grid' : 'single'; }""")


def grid_screen(page, truth, cols, pace, c):
    "One grid page: glance, flip the wrong tiles, accept."
    els = page.locator('.hotdog-panel .hd-tile'); n = els.count()
    time.sleep(pace * (MENTAL + GLANCE * n))
    for i in range(n):
        t = els.nth(i); want = truth[t.get_attribute('title')]
        shown = t.locator('.hd-lab span').inner_text().split(' ')[0].split('\n')[0]
        if shown != want: c['corrections'] += 1
        while shown != want:  # a flip goes to the next class: as many keys as it takes
            time.sleep(pace * KEY); press(page, ROWS[i // cols][i % cols]); c['grid_keys'] += 1
            shown = t.locator('.hd-lab span').inner_text().split(' ')[0].split('\n')[0]
    time.sleep(pace * KEY); press(page, 'Enter'); c['grid_keys'] += 1; c['pages'] += 1; c['tiles'] += n


def single_screen(page, truth, pace, c):
    "One item: Enter when the suggestion is right, else its class key."
    name = page.inner_text('.hotdog-panel .hd-name')
    want = next(v for k, v in truth.items() if Path(k).name == name)
    sugg = page.locator('.hotdog-panel .hd-sugg b')
    key = 'Enter' if sugg.count() and sugg.inner_text() == want else str(CLASSES.index(want) + 1)
    time.sleep(pace * (MENTAL + KEY)); press(page, key); c['single'] += 1; c['single_keys'] += 1


def run_session(page, truth, cols, pace):
    "Label until nothing is left, each screen in the mode the panel shows; returns the counts."
    c = dict(pages=0, tiles=0, corrections=0, grid_keys=0, single=0, single_keys=0)
    while (mode := on_screen(page)) != 'done':
        if mode == 'grid': grid_screen(page, truth, cols, pace, c)
        else: single_screen(page, truth, pace, c)
    return c


def store_labels(path):
    "Current labels of the store at `path`, by item path."
    st = Store(path, annotator='reader')
    cur = current_labels(st).merge(items(st)[['hash', 'path']], left_on='item', right_on='hash'); st.close()
    return dict(zip(cur.path, cur.label))


def kind(x):
    "What a measured key was: a page turn, a flip, or a single-mode label (None: anything else)."
    if x['mode'] == 'grid': return {'accept': 'page turn', 'flip': 'flip'}.get(x['action'])
    return 'single' if x['action'] in ('accept', 'submit', 'skip') else None


POLICY_KW = {}  # Policy settings from the command line (--refit-every)
SURE = {'sure': None}  # auto mode's triage from the command line (--sure)


def ours(page, jl, root, examples, truth, mode, page_size, policy, pace, run=''):
    demo = Path(demo_dataset()).parent  # a manifest lists files under its own folder
    manifest = demo/f'bench_{mode}.csv'; pd.DataFrame({'path': [str(Path(p).relative_to(demo)) for p in examples]}).to_csv(manifest, index=False)
    name = f'{mode}{run}'
    write_notebook(root/f'{name}.ipynb', [PANEL.format(classes=CLASSES, store=f'{name}.sqlite', manifest=str(manifest), mode=mode,
                                                       page=page_size, policy=policy, policy_kw=POLICY_KW, sure=SURE['sure'])])
    open_notebook(page, jl, f'{name}.ipynb')
    page.wait_for_selector('.hotdog-panel img', timeout=120_000)
    page.evaluate('() => { window.hotdogLatencies = []; window.hotdogPhases = []; document.querySelector(".jp-InputArea").style.display = "none"; }')
    page.click('.hotdog-panel .hd-status')
    box = page.locator('.hotdog-panel').bounding_box(); tile = page.locator('.hotdog-panel .hd-tile, .hotdog-panel .hd-big').first.bounding_box()
    screenshot(page, root/f'{name}.png')
    t = time.perf_counter()
    c = run_session(page, truth, _cols(page_size), pace)
    c['wall'] = time.perf_counter() - t
    c['phases'] = page.evaluate('window.hotdogPhases')
    out = root/f'{name}_kernel.json'
    kernel_execute(page, f'{name}.ipynb', f'import json; panel.queue.wait(); json.dump({{"timings": list(panel.timings), "fits": panel.queue.fits, '
                                          f'"policy": panel.queue.policy.name, "refit_every": panel.queue.policy.refit_every}}, open({str(out)!r}, "w"))')
    k = json.loads(out.read_text())
    c.update(kernel=k['timings'], fits=k['fits'], policy=k['policy'], refit_every=k['refit_every'])
    got = store_labels(root/f'{name}.sqlite')
    assert got == {p: truth[p] for p in examples}, 'the store does not hold the true labels'
    c.update(panel_px=(box['width'], box['height'], box['y']), tile_px=tile['width'])
    return c


def merge(runs):
    "Counts summed and key timings pooled over runs of one tool."
    out = {k: sum(r[k] for r in runs) for k in ('pages', 'tiles', 'corrections', 'grid_keys', 'single', 'single_keys', 'wall', 'fits')}
    out.update(phases=[x for r in runs for x in r['phases']], kernel=[x for r in runs for x in r['kernel']],
               **{k: runs[0][k] for k in ('policy', 'refit_every', 'panel_px', 'tile_px')})
    return out


def lat(r, what):
    "Measured ms of every key of one kind."
    return [x['kernel'] + x['draw'] + x['paint'] for x in r['phases'] if kind(x) == what]


def costs(r, strict, grid_only=False):
    "Seconds of annotator time (KLM plus the measured latency of each key) and labels, for a run of our panel."
    s = r['pages'] * MENTAL + r['tiles'] * GLANCE + r['grid_keys'] * KEY + sum(lat(r, 'page turn')) / 1000 + sum(lat(r, 'flip')) / 1000
    if strict: s += r['corrections'] * MENTAL
    n = r['tiles']
    if not grid_only: s += r['single'] * MENTAL + r['single_keys'] * KEY + sum(lat(r, 'single')) / 1000; n += r['single']
    return s, n


def pigeon_cost(p):
    mean = sum(p['lat']) / max(1, len(p['lat'])) / 1000
    return p['labels'] * (POINT + CLICK + MENTAL) + p['clicks'] * mean  # the last click has no next example measured: the mean


def cpu():
    "The CPU's model name (Linux), else the machine type."
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.machine()


def report(res, args, jl, load):
    print(f"machine: {cpu()}, {os.cpu_count()} CPUs, load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)")
    print(f"{args.n} demo photos ({sum(v == 'food' for v in res['truth'].values())} food), grid page {args.page}, pace {args.pace}, "
          f"server {args.server}: hotdog.server {'loaded' if jl.extension else 'not loaded'}" + (f", triage sure={args.sure}" if args.sure else ''))
    base = None
    if 'pigeon' in res:
        p = res['pigeon']; base = 60 * p['labels'] / pigeon_cost(p)
        print(f"pigeon   {p['labels']} labels, click -> next image p50 {pct(p['lat'], 50):.0f} / p95 {pct(p['lat'], 95):.0f} ms, "
              f"{base:.1f} labels/min (KLM)")
    for tool in ('single', 'grid', 'auto'):
        if tool not in res: continue
        r = res[tool]
        print(f"{tool} runs: policy {r['policy']} (refit every {r['refit_every']} labels), {r['fits']} refits; "
              f"{r['pages']} grid pages, {r['single']} single-mode labels, wall {r['wall']:.0f} s")
        if r['pages']:
            g = r['panel_px']; print(f"  grid panel {g[0]:.0f}x{g[1]:.0f} px from y={g[2]:.0f} in a 1280x800 viewport, tiles {r['tile_px']:.0f} px")
        for what in ('page turn', 'flip', 'single'):
            xs = lat(r, what)
            if not xs: continue
            over = [x['kernel'] + x['draw'] + x['paint'] for x in r['phases'] if kind(x) == what and x.get('fitting')]
            print(f"  {what:9} p50 {pct(xs, 50):5.0f} ms  p95 {pct(xs, 95):5.0f} ms  max {max(xs):5.0f} ms  (n={len(xs)}; "
                  f"{len(over)} answered while a refit ran" + (f", their p50 {pct(over, 50):.0f} / p95 {pct(over, 95):.0f} ms)" if over else ')'))
            parts = {k: [x[k] for x in r['phases'] if kind(x) == what] for k in ('kernel', 'draw', 'paint')}
            print('            ' + ', '.join(f"{k} p50 {pct(v, 50):.0f} / p95 {pct(v, 95):.0f}" for k, v in parts.items()) + ' ms')
            if what == 'page turn':  # how the browser drew each new page: swapped in the page built ahead, or built on the key's path
                for how in sorted({x.get('how', '?') for x in r['phases'] if kind(x) == what}):
                    hs = [x['kernel'] + x['draw'] + x['paint'] for x in r['phases'] if kind(x) == what and x.get('how', '?') == how]
                    print(f"            {how}: n={len(hs)}, p50 {pct(hs, 50):.0f} / p95 {pct(hs, 95):.0f} / max {max(hs):.0f} ms")
                print('            in order (a: built ahead, n: built now, p: patched): ' + ''.join(
                    {'built ahead': 'a', 'built now': 'n', 'patched': 'p'}.get(x.get('how'), '?') + (str(x.get('tiles')) if x.get('how') == 'built now' else '')
                    + ' ' for x in r['phases'] if kind(x) == what))
                slow = sorted((x for x in r['phases'] if kind(x) == what), key=lambda x: -(x['kernel'] + x['draw'] + x['paint']))[:3]
                print('            slowest: ' + '; '.join(f"{x['kernel'] + x['draw'] + x['paint']:.0f} ms ({x.get('how', '?')}, {x.get('tiles', '?')} tiles, kernel {x['kernel']:.0f}, paint {x['paint']:.0f})" for x in slow))
        for mode in ('grid', 'single'):
            xs = [x for x in r['phases'] if x['mode'] == mode]
            if xs:
                w = max(xs, key=lambda x: x['kernel'] + x['draw'] + x['paint'])
                print(f"  slowest {mode} key: {w['kernel'] + w['draw'] + w['paint']:.0f} ms ({w['action']}; kernel {w['kernel']:.0f} + draw {w['draw']:.0f} + paint {w['paint']:.0f}"
                      f"{', a refit running' if w.get('fitting') else ''})")
        for act in ('flip', 'accept', 'submit'):
            q = [x[1] + x[2] for x in r['kernel'] if x[0] == act]
            if q: print(f"  in the kernel, {act:6} p50 {pct(q, 50):5.1f} ms  p95 {pct(q, 95):5.1f} ms  (n={len(q)})")
        if r['pages']: print(f"  corrections per grid page: {r['corrections'] / r['pages']:.2f} ({r['corrections']} of {r['tiles']} tiles)")
        rows = [('klm', False, False), ('strict', True, False)] + ([('klm, grid pages only', False, True), ('strict, grid pages only', True, True)] if r['pages'] else [])
        for label, strict, only in rows:
            secs, n = costs(r, strict, only)
            if n: print(f"  {label:24} {n:4d} labels in {secs:6.1f} s: {60 * n / secs:6.1f} labels/min" + (f"  {60 * n / secs / base:5.1f}x pigeon" if base else ''))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=200); ap.add_argument('--page', type=int, default=40)
    ap.add_argument('--server', choices=('plain', 'on', 'off'), default='plain',
                    help='plain: `jupyter lab` as installed; on/off: hotdog.server forced on or off')
    ap.add_argument('--policy', default='default', help='the queue\'s labelling policy by name (see hotdog.acquire.Policy.from_name; default: the queue\'s default)')
    ap.add_argument('--pace', type=float, default=0.2, help='share of the KLM think time the scripted annotator waits (0: back to back)')
    ap.add_argument('--grid-runs', type=int, default=3, help='grid runs on fresh stores, pooled (a grid run has few keys)')
    ap.add_argument('--tools', default='pigeon,single,grid', help='which of pigeon, single, grid, auto (the queue picks grid or single) to run')
    ap.add_argument('--refit-every', type=int, default=None, help="labels between refits (default: the policy's; 0: no refits, for a quiet baseline)")
    ap.add_argument('--sure', type=float, default=None, help="auto mode's triage (Queue(sure=)): grid pages of the items the model is sure of, the others one at a time")
    args = ap.parse_args()
    if args.refit_every is not None: POLICY_KW['refit_every'] = args.refit_every
    SURE['sure'] = args.sure
    tools = args.tools.split(',')
    load = os.getloadavg()
    examples, truth = pick(args.n)
    root = Path(__file__).resolve().parent/'out'/'annotate'; shutil.rmtree(root, ignore_errors=True); root.mkdir(parents=True)
    res = {'truth': truth}
    with lab(root, nodelay={'plain': None, 'on': True, 'off': False}[args.server]) as jl, browser() as page:
        if 'pigeon' in tools:
            p = label_with_pigeon(page, jl, examples, truth, CLASSES, root/'pigeon', think=args.pace * (POINT + CLICK + MENTAL))
            assert p['matches_truth']
            res['pigeon'] = {'labels': p['labels'], 'clicks': p['clicks'], 'lat': p['latencies_ms']}
        if 'single' in tools: res['single'] = merge([ours(page, jl, root, examples, truth, 'single', args.page, args.policy, args.pace)])
        if 'grid' in tools:
            res['grid'] = merge([ours(page, jl, root, examples, truth, 'grid', args.page, args.policy, args.pace, run=k or '')
                                 for k in range(args.grid_runs)])
        if 'auto' in tools:
            res['auto'] = merge([ours(page, jl, root, examples, truth, 'auto', args.page, args.policy, args.pace, run=k or '')
                                 for k in range(args.grid_runs)])
        assert page.errors == [], page.errors
        report(res, args, jl, load)
    print('screenshots and notebooks in', root)


if __name__ == '__main__':
    main()
