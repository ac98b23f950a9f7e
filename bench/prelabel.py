"""Pre-label accuracy of the labelling queue on the demo photos after 0/20/50/100 labels: how much of a grid page is right before the annotator touches it.

`hotdog.prelabel.prelabel_accuracy` drives the panel's own `Queue` (grid mode, inline refits) with an oracle that flips
every wrong tile and accepts the page. Configurations (each a `hotdog.acquire.Policy`):
  shipped        the queue's default policy, `Policy()`: typical pages for the first 30 labels, then cluster
                 uncertainty with a 10% random control counted over the session, the zero-shot prior (ImageNet's food
                 classes = 'food') blended into every refitted head as if it were 30 labels (`Blend`), a refit every 10
  head           the same, the refitted heads alone (prior_weight=0); the prior gives the pre-labels until the first refit
  prior          the prior alone (refit_every=0): no refit
  prior+entropy  the prior alone, ordered by its own uncertainty from the start (no cold start): what ordering costs the page
Pages of 10 tiles and a refit every 10 labels (the default policy's), so that each count falls on a page boundary with a
model fitted on exactly that many labels. The seed moves the random control and the cold start's k-means.
Printed per configuration and label count: median [10th-90th percentile] over seeds of the accuracy of the current model
on all unlabelled items, the balanced accuracy (mean per-class recall) on them, and the accuracy of the suggestions on
the page on screen (10 tiles; prefetched, so one refit behind), with its mean over seeds (x 10: right tiles per page).

Usage: nice .venv/bin/python bench/prelabel.py [--seeds 20] [--at 20,50,100] [--page 10] [--configs all]
Writes bench/out/prelabel_demo.csv (every measurement). About 40 s in one process on one core (a session with refits takes
about 0.6 s), beside another job on a 2-core machine; the first run on a machine also embeds the 343 photos.
"""
import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from hotdog.acquire import Policy
from hotdog.data import ingest
from hotdog.datasets import demo_dataset
from hotdog.prelabel import prelabel_accuracy
from hotdog.prior import ZeroShot
from hotdog.store import Store, add_dataset

OUT = Path(__file__).resolve().parent/'out'
CLASSES = ['food', 'not_food']
CONFIGS = {'shipped': Policy(), 'head': Policy(prior_weight=0), 'prior': Policy(refit_every=0),
           'prior+entropy': Policy('entropy', cold_labels=0, refit_every=0)}


def spread(s: pd.Series, digits: int = 3) -> str:
    "Median [10th-90th percentile] of `s`."
    q = s.quantile([0.5, 0.1, 0.9]).round(digits)
    return f'{q[0.5]:.{digits}f} [{q[0.1]:.{digits}f}-{q[0.9]:.{digits}f}]'


def table(df: pd.DataFrame) -> pd.DataFrame:
    "One row per configuration and label count: the spreads over seeds."
    g = df.groupby(['config', 'n_labels'], sort=False)
    return pd.DataFrame({'model': g.model.first().str.replace(r'@\d+', '@n', regex=True), 'items left': g.remaining.first(),
                         'accuracy, items left': g.accuracy.apply(spread), 'balanced accuracy': g.balanced_accuracy.apply(spread),
                         'page accuracy': g.page_accuracy.apply(spread, digits=2), 'page mean': g.page_accuracy.mean().round(3)})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, default=20); p.add_argument('--page', type=int, default=10, help='tiles a page')
    p.add_argument('--at', default='20,50,100', help='label counts, multiples of --page')
    p.add_argument('--configs', default='all', help=f"comma-separated, of: {', '.join(CONFIGS)}")
    a = p.parse_args(); at = [int(v) for v in a.at.split(',')]
    torch.set_num_threads(1)  # the refits are tiny: with 2 threads on 2 busy cores one session took 2-12 s instead of 0.6 s
    configs = {k: v for k, v in CONFIGS.items() if a.configs == 'all' or k in a.configs.split(',')}
    t0 = time.perf_counter(); ds = ingest(demo_dataset(), progress=False); truth = {i.hash: i.label for i in ds.items}
    rows = []
    with tempfile.TemporaryDirectory() as d:  # each session labels into its own throwaway store
        for name, policy in configs.items():
            for seed in range(a.seeds):
                st = Store(Path(d)/f'{name}-{seed}.sqlite', annotator='oracle'); add_dataset(st, ds)
                df = prelabel_accuracy(st, truth, CLASSES, ZeroShot(CLASSES, {'food': 'food'}), at=at, page_size=a.page, seed=seed, policy=policy)
                rows.append(df.assign(config=name, seed=seed)); st.close()
    df = pd.concat(rows, ignore_index=True)
    counts = pd.Series(truth).value_counts()
    print(f"\n== demo: {len(truth)} photos ({', '.join(f'{c} {n}' for c, n in counts.items())}), grid pages of {a.page}, "
          f"policies {', '.join(f'{k}={v.name}' for k, v in configs.items())}, {a.seeds} seeds; median [10-90%] over seeds")
    with pd.option_context('display.width', 250, 'display.max_colwidth', 40): print(table(df).to_string())
    print(f'  time: {time.perf_counter() - t0:.0f} s')
    OUT.mkdir(exist_ok=True); df.to_csv(OUT/'prelabel_demo.csv', index=False)


if __name__ == '__main__':
    main()
