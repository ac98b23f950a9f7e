"""The label store at scale: cataloguing a pipeline run, every question the workspace asks of the log, and the labelling
report, at 2k items / 10k events, 20k / 100k and 200k / 1M, the log's questions without the store's indexes for the log
(as stores were before issue 13) and with them.

The stores are `hotdog.fixtures.big_store` (4 annotators x 5 sittings, grid and single mode, ~5% skips, ~3% undos, items
drawn at random so that most are labelled by several annotators); the run is `hotdog.fixtures.synthetic_run` (shards of
10,000 rows, 2% skipped files). "before" opens a copy of the store from which the indexes `events_label`, `events_undo` and
`events_annotator` were dropped, with a schema that does not create them again; the code is the same. Each time is the
best of --repeat runs (one run for anything slower than 2 s), in CPU seconds of this process: the queries run in this
process on a store in the page cache, so on an idle machine that is their wall-clock time, and on a machine that other jobs
share it is not inflated by them (wall-clock times varied 3x between runs beside other agents' tests). add_run is wall time.

The labelling report (reports/templates/labelling.ipynb) is timed twice over, with the indexes: each function it calls,
cold (nothing kept from an earlier call: the Store's `hotdog.store.memo` is emptied first), and the calls in the template's
order on one `Store` as the report makes them (a derived table computed once serves the later calls); then the whole report run
by `hotdog.report.run_report` (papermill, a new kernel, HTML), in wall seconds.
Printed: a table with a row per query, whose last two columns are after/after at the largest vs the smallest size (the
scaling: 100 is linear from 2k to 200k) and before/after at the largest (what the indexes bought); then the report's table
with its ratio of the largest to the smallest size.

Usage: nice .venv/bin/python bench/store_scale.py [--sizes 2000:10000,20000:100000,200000:1000000] [--repeat 3] [--keep DIR] [--no-render]
Writes bench/out/store_scale.csv and bench/out/store_scale_report.csv. About 15 minutes on a busy 2-core machine (building
the 1M-event store: 30-50 s).
"""
import argparse
import contextlib
import io
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import pandas as pd

import hotdog.store as store_module
from hotdog.fixtures import big_store, synthetic_run
from hotdog.labelstats import throughput
from hotdog.report import run_report
from hotdog.report_content import disagreements, labelling_metrics, labelling_summary, labels_over_time
from hotdog.store import (Store, add_run, agreement, annotators, current_labels, event_count, export, history, items,
                          labelled_now)

OUT = Path(__file__).resolve().parent/'out'
NEW_INDEXES = ('events_label', 'events_undo', 'events_annotator')


def timed(fn, repeat):
    "Best CPU time of this process over up to `repeat` runs of fn() (one run when it takes over 2 s)."
    best = float('inf')
    for _ in range(repeat):
        t = time.process_time(); fn(); best = min(best, time.process_time() - t)
        if best > 2: break
    return best


@contextlib.contextmanager
def without_indexes():
    "Stores opened inside do not get the new indexes created."
    keep = store_module.SCHEMA
    store_module.SCHEMA = '\n'.join(l for l in keep.splitlines() if not any(f' {i} ' in l for i in NEW_INDEXES))
    try: yield
    finally: store_module.SCHEMA = keep


def bare_copy(path, dest):
    "A copy of the store at `path` without the new indexes."
    shutil.copy(path, dest); db = sqlite3.connect(dest)
    for i in NEW_INDEXES: db.execute(f'DROP INDEX IF EXISTS {i}')
    db.close(); return dest


def queries(s: Store, d: Path):
    "(name, function) of each question, in the order the table shows them."
    hs = items(s).hash.tolist(); page = hs[len(hs) // 2: len(hs) // 2 + 40]
    one = 'ana-1'  # a sitting of big_store's: 1/20 of the log
    return [
        ('event_count', lambda: event_count(s)),
        ('items (the catalog)', lambda: items(s)),
        ('current_labels', lambda: current_labels(s)),
        ('current_labels(annotator)', lambda: current_labels(s, 'ben')),
        ('labelled_now(page of 40)', lambda: labelled_now(s, page)),
        ('history(session)', lambda: history(s, session=one)),
        ('history(annotator)', lambda: history(s, annotator='ben')),
        ('history', lambda: history(s)),
        ('annotators', lambda: annotators(s)),
        ('agreement', lambda: agreement(s)),
        ('throughput(session) [panel]', lambda: throughput(s, session=one)),
        ('throughput', lambda: throughput(s)),
        ('export current .csv', lambda: export(s, d/'cur.csv')),
        ('export current .parquet', lambda: export(s, d/'cur.parquet')),
        ('export history .parquet', lambda: export(s, d/'hist.parquet', 'history')),
        ('export history .csv', lambda: export(s, d/'hist.csv', 'history')),
    ]


def measure(path, d, repeat, label):
    "Seconds of each query on the store at `path`."
    s = Store(path, annotator='bench'); out = {}
    for name, fn in queries(s, d):
        cold = lambda fn=fn: (s._memo.clear(), fn())  # nothing kept from the previous run (`hotdog.store.memo`)
        out[name] = timed(cold, repeat); print(f'  {label:>14} {name:32} {out[name]:8.3f} s', flush=True)
    s.close(); return out


def report_calls(s: Store, idle=60.0):
    "(name, function) of each call of the labelling template, in its order."
    fig = [None]
    return [
        ('labelling_summary', lambda: labelling_summary(s)),
        ('labels_over_time', lambda: fig.__setitem__(0, labels_over_time(s))),
        ('  its figure drawn as PNG', lambda: fig[0].savefig(io.BytesIO(), format='png')),  # as the HTML shows it
        ("throughput(by='annotator')", lambda: throughput(s, idle=idle, by='annotator')),
        ("throughput(by='mode')", lambda: throughput(s, idle=idle, by='mode')),
        ("throughput(by=['annotator', 'mode'])", lambda: throughput(s, idle=idle, by=['annotator', 'mode'])),
        ('agreement', lambda: agreement(s)),
        ('disagreements', lambda: disagreements(s)),
        ('labelling_metrics', lambda: labelling_metrics(s, idle)),
    ]


def measure_report(path, d, repeat, render):
    "Seconds of each call of the labelling report, cold and in the report's order; and of the whole report."
    out, s = {}, Store(path, annotator='bench')
    for name, fn in report_calls(s):
        out[(name, 'cold')] = timed(lambda fn=fn: (s._memo.clear(), fn()), repeat)  # nothing kept from an earlier call
    s._memo.clear(); total = 0.0
    for name, fn in report_calls(s):
        t = time.process_time(); fn(); out[(name, 'in the report')] = time.process_time() - t; total += out[(name, 'in the report')]
    s.close(); out[('all calls', 'in the report')] = total
    out[('all calls', 'cold')] = sum(v for (n, k), v in out.items() if k == 'cold' and n != 'all calls')
    for (name, how), v in out.items(): print(f'  {"report":>14} {name:38} {how:14} {v:8.3f} s', flush=True)
    if render:
        t = time.perf_counter(); run = run_report('labelling', {'store': str(path)}, root=d/'reports')
        out[('the report, rendered (wall)', 'papermill')] = time.perf_counter() - t
        print(f'  {"report":>14} rendered by run_report in {out[("the report, rendered (wall)", "papermill")]:.1f} s: {run}', flush=True)
    return out


def catalog(n, d):
    "Seconds to catalog a run of n files, and to catalog it again (adds nothing)."
    run = synthetic_run(d/f'run{n}', n, 10_000); s = Store(d/f'run{n}.sqlite')
    t = time.perf_counter(); new = add_run(s, run); first = time.perf_counter() - t
    t = time.perf_counter(); again = add_run(s, run); second = time.perf_counter() - t
    assert again == 0; s.close(); return new, first, second


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sizes', default='2000:10000,20000:100000,200000:1000000', help='items:events, comma-separated, small first')
    p.add_argument('--repeat', type=int, default=3); p.add_argument('--keep', help='build the stores in this folder and keep them')
    p.add_argument('--no-render', action='store_true', help='do not run the whole report with papermill')
    a = p.parse_args(); sizes = [tuple(int(v) for v in x.split(':')) for x in a.sizes.split(',')]
    d = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='store-scale-')); d.mkdir(parents=True, exist_ok=True)
    res, rep, t0 = {}, {}, time.perf_counter()
    load = lambda: ' / '.join(f'{x:.1f}' for x in os.getloadavg())
    print(f'load average at the start: {load()} ({os.cpu_count()} CPUs)', flush=True)
    try:
        for n_items, n_events in sizes:
            print(f'== {n_items:,} items, {n_events:,} events', flush=True)
            new, first, again = catalog(n_items, d)
            print(f'  add_run: {new:,} new items from {n_items:,} rows in {first:.2f} s ({new / first:,.0f} items/s); again: 0 new in {again:.2f} s')
            res[(n_items, 'add_run')] = {'before': float('nan'), 'after': first}
            path = d/f'big-{n_items}-{n_events}.sqlite'
            if not path.exists():
                t = time.perf_counter(); big_store(path, n_items, n_events); print(f'  built the store in {time.perf_counter() - t:.1f} s')
            Store(path).close()  # the indexes are created on the first open: not part of any query's time
            bare = bare_copy(path, d/f'bare-{n_items}.sqlite')
            with without_indexes(): before = measure(bare, d, a.repeat, 'before')
            after = measure(path, d, a.repeat, 'after')
            for k in after: res[(n_items, k)] = {'before': before[k], 'after': after[k]}
            for k, v in measure_report(path, d, a.repeat, not a.no_render).items(): rep[(n_items, *k)] = v
    finally:
        if not a.keep: shutil.rmtree(d, ignore_errors=True)
    print(f'load average at the end: {load()}')
    df = pd.DataFrame([{'items': n, 'query': q, **v} for (n, q), v in res.items()])
    OUT.mkdir(exist_ok=True); df.to_csv(OUT/'store_scale.csv', index=False)
    small, big = sizes[0][0], sizes[-1][0]; k = lambda n: f'{n // 1000}k'
    t = df.pivot(index='query', columns='items', values=['before', 'after']).reindex(df['query'].drop_duplicates())
    tab = pd.DataFrame({f'{k(n)} {w}': t[w][n] for n, _ in sizes for w in ('before', 'after')})
    tab[f'{k(big)}/{k(small)}'] = tab[f'{k(big)} after'] / tab[f'{k(small)} after']
    tab['speed-up'] = tab[f'{k(big)} before'] / tab[f'{k(big)} after']
    print(f"\n== CPU seconds (best of {a.repeat}; add_run: wall); {', '.join(f'{n:,} items/{e:,} events' for n, e in sizes)}")
    with pd.option_context('display.width', 250): print(tab.round(3).to_string())
    rf = pd.DataFrame([{'items': n, 'call': c, 'how': h, 'seconds': v} for (n, c, h), v in rep.items()])
    rf.to_csv(OUT/'store_scale_report.csv', index=False)
    rt = rf.pivot_table(index=['call', 'how'], columns='items', values='seconds', sort=False)
    rt.columns = [k(n) for n in rt.columns]; rt[f'{k(big)}/{k(small)}'] = rt[k(big)] / rt[k(small)]
    print(f'\n== the labelling report: CPU seconds of each call (cold: best of {a.repeat}, the memo emptied each time; in the report: '
          f'once, in the template\'s order on one Store); the whole report rendered: wall seconds')
    with pd.option_context('display.width', 250): print(rt.round(3).to_string())
    print(f'  time: {time.perf_counter() - t0:.0f} s')


if __name__ == '__main__':
    main()
