"""The labelling queue at 2,000, 20,000 and 200,000 items: open, first page, keys, refits, memory.

Each size is a store of synthetic items whose embeddings (clustered Gaussian blobs, float16) lie in a
fake pipeline run folder the store lists (`state` key `runs`), as `hotdog score --embeddings` leaves them:
the queue reads them from there and never needs the image files (the paths exist only in the catalog).
Each size runs in a fresh process: a `Queue` with the zero-shot scorer and the default policy (a typical
cold start, then `cluster`, a refit after each page in the background refit process), grid pages of 20;
an oracle flips the wrong tiles and accepts each page, at a steady pace so that refits run during the keys.
Key latencies are in-process timings of `Queue.flip` and `Queue.accept` (the kernel's part of a key).
Usage: .venv/bin/python bench/queue_scale.py [--sizes 2000 20000 200000] [--pages 30] [--pace 0.2]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

C = ['hotdog', 'not_hotdog']


def build(n: int, folder: Path, blobs: int = 40, seed: int = 0):
    "A store of `n` catalogued items and a run folder with their embeddings [n, 1280] float16; returns (store path, truth by hash)."
    import pandas as pd
    from numpy.lib.format import open_memmap
    from hotdog.data import Dataset, Item
    from hotdog.model import EMBED_DIM
    from hotdog.queue import RUNS_KEY
    from hotdog.store import Store, add_dataset, save_state
    rng = np.random.default_rng(seed)
    hashes = [f'{i:032x}' for i in rng.permutation(10 * n)[:n]]  # not in catalog order by accident
    blob = rng.integers(0, blobs, n); centres = rng.normal(0, 1, (blobs, EMBED_DIM)).astype(np.float32)
    run = folder/'run'; run.mkdir(parents=True)
    X = open_memmap(run/'_embeddings.npy', 'w+', np.float16, (n, EMBED_DIM))
    for i in range(0, n, 20000):  # written in chunks: the bench itself stays small
        X[i:i + 20000] = np.abs(centres[blob[i:i + 20000]] + rng.normal(0, 0.6, (len(blob[i:i + 20000]), EMBED_DIM)))
    X.flush(); del X
    pd.DataFrame({'hash': hashes}).to_parquet(run/'_embeddings_hashes.parquet')
    (run/'_run.json').write_text(json.dumps({'format': 'hotdog-run/1', 'config': {'geometry': 'letterbox', 'embeddings': True}}))
    st = Store(folder/'store.sqlite', annotator='bench')
    add_dataset(st, Dataset(folder/'images', 'folder', [Item(folder/'images'/f'{h}.jpg', h, size=1000, width=64, height=64) for h in hashes]))
    save_state(st, RUNS_KEY, [str(run)])
    return st.path, {h: C[b % 2] for h, b in zip(hashes, blob)}


def rss_mb(pid=None) -> tuple:
    "(current, peak) resident memory of a process in MB, from /proc."
    fields = dict(line.split(':', 1) for line in Path(f'/proc/{pid or "self"}/status').read_text().splitlines() if ':' in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ('VmRSS', 'VmHWM'))


def one(n: int, pages: int, pace: float) -> dict:
    "Measure one pool size in this process."
    from hotdog.prior import ZeroShot
    from hotdog.queue import Queue
    from hotdog.store import Store
    folder = Path(tempfile.mkdtemp(prefix=f'hotdog-qscale-{n}-'))
    os.environ['HOTDOG_CACHE'] = str(folder/'cache')  # the queue caches the pool's clustering features: gone with the pool
    t = time.perf_counter(); path, truth = build(n, folder); built = time.perf_counter() - t
    zs = ZeroShot(C, {'hotdog': 'hotdog'}); zs.predict_proba(np.zeros((1, 1280), np.float32))  # the ImageNet head loads once per process, not per queue
    t = time.perf_counter(); q = Queue(Store(path, annotator='bench'), C, mode='grid', page_size=20, scorer=zs); opened = time.perf_counter() - t
    t = time.perf_counter(); v = q.view(); view = time.perf_counter() - t
    assert len(v['tiles']) == 20 and v['total'] == n
    refits, refit = [], q._refit
    def timed_refit():
        t0 = time.perf_counter(); refit(); refits.append(time.perf_counter() - t0)
    q._refit = timed_refit  # the instance's own attribute: `_maybe_refit` calls it in the refit thread
    flips, accepts, accepts_during = [], [], []
    for _ in range(pages):
        for i, tile in enumerate(list(q.page)):
            if tile['choice'] != truth[tile['item']]:
                t = time.perf_counter(); q.flip(i, truth[tile['item']]); flips.append(time.perf_counter() - t); time.sleep(pace)
        during = q.fitting; t = time.perf_counter(); q.accept(); accepts.append(time.perf_counter() - t); time.sleep(pace)
        accepts_during.append(during)
    busy = q.fitting; q.wait()
    child = rss_mb(q._process.proc.pid) if q._process is not None else (0, 0)
    res = {'n': n, 'build_s': built, 'open_s': opened, 'view_ms': view * 1e3, 'labels': len(q.labelled), 'fits': q.fits, 'error': q.error,
           'flip_ms': [x * 1e3 for x in flips], 'accept_ms': [x * 1e3 for x in accepts], 'accept_during_refit': accepts_during, 'refit_s': refits, 'refit_busy_at_end': busy,
           'kernel_rss_mb': rss_mb(), 'refit_rss_mb': child}
    q.close(); shutil.rmtree(folder, ignore_errors=True)
    return res


def pooled(rs: list) -> dict:
    "The runs of one size as one: latencies pooled, the median open and view, refits listed by round (first ones first), the highest memory."
    r = dict(rs[0])
    for k in ('flip_ms', 'accept_ms', 'accept_during_refit'): r[k] = [x for q in rs for x in q[k]]
    for k in ('open_s', 'view_ms', 'build_s'): r[k] = float(np.median([q[k] for q in rs]))
    r['refit_first_s'] = [q['refit_s'][0] for q in rs if q['refit_s']]; r['refit_s'] = [x for q in rs for x in q['refit_s'][1:]]
    for k in ('kernel_rss_mb', 'refit_rss_mb'): r[k] = tuple(max(q[k][i] for q in rs) for i in (0, 1))
    r['labels'], r['fits'], r['error'] = sum(q['labels'] for q in rs), sum(q['fits'] for q in rs), [q['error'] for q in rs if q['error']] or None
    return r


def table(rows: list):
    "Print the measurements and the 200k/2k ratios."
    pct = lambda xs, p: float(np.percentile(xs, p)) if len(xs) else float('nan')
    print(f"{'items':>8} {'open s':>7} {'view ms':>8} {'flip p50/p95 ms':>16} {'accept p50/p95 ms':>18} {'refit 1st/median s':>19} {'kernel RSS MB':>14} {'refit RSS MB':>13}")
    for r in rows:
        rf, first = r['refit_s'], r['refit_first_s']
        print(f"{r['n']:>8} {r['open_s']:>7.2f} {r['view_ms']:>8.2f} {pct(r['flip_ms'], 50):>7.2f}/{pct(r['flip_ms'], 95):<8.2f} "
              f"{pct(r['accept_ms'], 50):>8.1f}/{pct(r['accept_ms'], 95):<9.1f} {(np.median(first) if first else float('nan')):>9.1f}/{(np.median(rf) if rf else float('nan')):<9.1f} "
              f"{r['kernel_rss_mb'][1]:>14.0f} {r['refit_rss_mb'][1]:>13.0f}")
    for r in rows:
        during = [x for x, d in zip(r['accept_ms'], r['accept_during_refit']) if d]
        print(f"  {r['n']}: {r['labels']} labels, {len(r['flip_ms'])} flips, {len(r['accept_ms'])} accepts ({len(during)} while a refit ran, p95 {pct(during, 95):.1f} ms), "
              f"{r['fits']} refits, errors {r['error']}; store and run built in {r['build_s']:.1f} s")
    lo, hi = min(rows, key=lambda r: r['n']), max(rows, key=lambda r: r['n'])
    if lo is not hi:
        for k in ('flip_ms', 'accept_ms'):
            print(f"p95 of {k[:-3]} at {hi['n']} / at {lo['n']}: {pct(hi[k], 95) / pct(lo[k], 95):.2f}x (target <= 1.5x)")
        print(f"open at {hi['n']}: {hi['open_s']:.1f} s (target <= 10 s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[2000, 20000, 200000])
    ap.add_argument('--pages', type=int, default=30, help='grid pages labelled per size')
    ap.add_argument('--pace', type=float, default=0.2, help='seconds between keys (an annotator is slower)')
    ap.add_argument('--rounds', type=int, default=2, help='runs of every size, taken in turn and pooled (the machine is shared: its load drifts)')
    ap.add_argument('--one', type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: print(json.dumps(one(a.one, a.pages, a.pace))); return
    runs = {n: [] for n in a.sizes}
    for _ in range(a.rounds):
        for n in a.sizes:  # a process per size and round: its memory is its own
            out = subprocess.run([sys.executable, __file__, '--one', str(n), '--pages', str(a.pages), '--pace', str(a.pace)],
                                 capture_output=True, text=True, env={**os.environ, 'TQDM_DISABLE': '1'})
            if out.returncode: sys.exit(f'size {n} failed:\n{out.stderr[-3000:]}')
            runs[n].append(json.loads(out.stdout.strip().splitlines()[-1])); print(f'{n} items done', file=sys.stderr)
    print(f'load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {a.rounds} rounds pooled, medians of open and refits')
    table([pooled(rs) for rs in runs.values()])


if __name__ == '__main__':
    main()
