"""Active learning: how many labels each ordering strategy needs to reach a target ROC-AUC, against random, in the same run.

The simulation is `hotdog.active.simulate_labelling`, which orders with `hotdog.queue.order`, the panel's own function.
For each data set: stratified pool/test splits x seeds; per session the number of labels at which the held-out
ROC-AUC (macro one-vs-rest for more than two classes) first reaches the target, min(0.95, 98% of the AUC that a head
trained on the whole pool reaches on that split). Printed: median and 90th percentile per strategy and the ratio of
random's to each (x fewer labels).

The head is the panel's linear head standardised by the pool's statistics (`--norm labelled`: by the labelled items',
as `LinearHead.fit` does, which penalises every non-random strategy; see nbs/06a_active.ipynb). The head sees all 1,280
features: a PCA to 64 or 256 dimensions changed the curves materially (LinearHead as is, batches of 10-20: demo random median
70 -> 110 labels with 64; fmnist random no longer reached 0.95 within 400 labels with 256), so
PCA is used only for what the k-means of `cluster` and of the typical start run on (32 dimensions, fitted on the pool,
no labels).

Usage: nice .venv/bin/python bench/active_learning.py [--data demo|fmnist|both] [--splits 5] [--seeds 10] [--pool 5000]
       [--test 1000] [--step 5 on demo, 10 on fmnist] [--budget pool on demo, 200 on fmnist] [--random-share 0.1]
       [--norm pool|labelled] [--kmeans-dims 32] [--strategies all] [--jobs 2]
Writes bench/out/active_learning_<data>.csv (the curves) and .png (median and 10-90% band per strategy).
About 12 min (demo) and 18 min (fmnist) on 2 busy CPU cores; the first fmnist run also embeds 6,000 images (about 40 s).
`--reprint` prints the table again from the curves the last run wrote.
"""
import argparse
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedShuffleSplit

from hotdog.active import auc, compare, fit_head, labels_to_target, plot_curves, simulate_labelling
from hotdog.data import ingest
from hotdog.datasets import FMNIST_CLASSES, demo_dataset, fashion_mnist
from hotdog.model import embed, imagenet_probs, pool_norm
from hotdog.queue import ZeroShot

OUT = Path(__file__).resolve().parent/'out'

# The ImageNet classes that stand for each Fashion-MNIST class, chosen by name before any run; 'Shirt' has no
# ImageNet class and shares what the others leave. A weak prior: ImageNet has few clothes, and these are 28 px grey.
FMNIST_PRIOR = {'T-shirt/top': ['jersey'], 'Trouser': ['jean'], 'Pullover': ['sweatshirt', 'cardigan'],
                'Dress': ['gown', 'overskirt', 'hoopskirt', 'miniskirt'], 'Coat': ['trench coat', 'fur coat', 'lab coat', 'cloak'],
                'Sandal': ['sandal'], 'Sneaker': ['running shoe'], 'Bag': ['purse', 'mailbag', 'backpack', 'plastic bag'],
                'Ankle boot': ['cowboy boot']}

# name: keywords of `simulate_labelling`. A zero-shot start takes its first batch (and any batch before the labels hold
# two classes) from the ImageNet prior, ordered by the strategy after the '+', instead of at random, and later batches
# are ordered by the head blended with the prior as if it were 30 labels (the queue's `Blend`). A typical start takes
# the first 30 labels in the `typical` order (batches of `step`, k-means clusters without a label first, the most
# typical item of each), then the strategy; '+prior' adds the prior blend to the order after it.
BLEND = 30
TYPICAL = 30
STRATEGIES = {'random': dict(strategy='random'), 'entropy': dict(strategy='entropy'), 'margin': dict(strategy='margin'),
              'balanced': dict(strategy='balanced'), 'cluster': dict(strategy='cluster'),
              'zero-shot+balanced': dict(strategy='balanced', cold_start='prior', prior_weight=BLEND),
              'zero-shot+cluster': dict(strategy='cluster', cold_start='prior', prior_weight=BLEND),
              'typical+margin': dict(strategy='margin', cold_start='typical', cold_labels=TYPICAL),
              'typical+cluster': dict(strategy='cluster', cold_start='typical', cold_labels=TYPICAL),
              'typical+cluster+prior': dict(strategy='cluster', cold_start='typical', cold_labels=TYPICAL, prior_weight=BLEND)}

# Hook for a model that fuses the zero-shot prior with the head (hotdog.train): set FUSION to a function
# fit(X, y, classes, seed) -> object with predict_proba(X), where X carries the prior's C columns after the features
# (see `run_split`), and a 'fusion' row is added, ordered like 'cluster'.
FUSION = None


def load(name: str, pool: int, test: int):
    "Embeddings [N, 1280], labels, class names and the zero-shot prior [N, C] of a data set."
    if name == 'demo': ds, zs = ingest(demo_dataset(), progress=False), ZeroShot(['food', 'not_food'], {'food': 'food'})
    else: ds, zs = ingest(fashion_mnist('train', n=pool + test, seed=0), progress=False), ZeroShot(FMNIST_CLASSES, FMNIST_PRIOR)
    X = embed(ds.items, progress=True)
    return X, np.array(ds.labels), zs.classes, zs.from_imagenet(imagenet_probs(X))


def kmeans_features(Xp, dims: int, seed: int):
    "What `cluster` clusters: the pool's embeddings projected on their first `dims` principal components (no labels used)."
    return PCA(dims, random_state=seed).fit_transform(Xp).astype(np.float32) if dims else Xp


DATA = {}  # the data set and its splits, in each worker process


def _init(shared: dict):
    DATA.update(shared)


def run_split(task):
    "Curves of one strategy on one split, with that split's reference AUCs and target."
    split, name, kw = task; X, y, classes, prior, pool_i, test_i, a = (DATA[k] for k in ('X', 'y', 'classes', 'prior', 'pool', 'test', 'args'))
    Xp, Xt, yp, yt = X[pool_i[split]], X[test_i[split]], y[pool_i[split]], y[test_i[split]]
    feats = kmeans_features(Xp, a.kmeans_dims, split) if kw['strategy'] == 'cluster' or kw.get('cold_start') == 'typical' else None
    if kw.get('fit') == 'fusion': kw = dict(kw, fit=FUSION); Xp, Xt = np.hstack([Xp, prior[pool_i[split]]]), np.hstack([Xt, prior[test_i[split]]])
    elif a.norm == 'labelled': kw = dict(kw, fit=fit_head)  # LinearHead.fit as it is: standardised by the labelled items
    full = auc(fit_head(Xp, yp, classes, norm=pool_norm(Xp)).predict_proba(Xt), yt, classes)
    kw = dict(kw, prior=prior[pool_i[split]]) if kw.get('cold_start') == 'prior' or kw.get('prior_weight') else kw
    c = simulate_labelling(Xp, yp, budget=min(a.budget, len(yp)), step=a.step, clusters=max(a.step, len(classes)), seeds=range(a.seeds), X_test=Xt, y_test=yt,
                           classes=classes, name=name, random_share=a.random_share, features=feats, **kw)
    return c.assign(split=split, full_auc=full, prior_auc=auc(prior[test_i[split]], yt, classes), target=min(0.95, 0.98 * full))


def reprint(data: str, a):
    "The table again, from the curves the last run wrote (no simulation)."
    report(data, pd.read_csv(OUT/f'active_learning_{data}.csv'), '?', '?', 0, 0, _defaults(data, a), write=False)


def _defaults(data: str, a):
    "The arguments, with the data set's default step and budget."
    return argparse.Namespace(**{**vars(a), 'step': a.step or (5 if data == 'demo' else 10), 'budget': a.budget or (10**9 if data == 'demo' else 200)})


def bench(data: str, a) -> pd.DataFrame:
    "Run every strategy on every split of `data`, print the table, write the curves and the figure."
    a = _defaults(data, a)
    t0 = time.perf_counter(); X, y, classes, prior = load(data, a.pool, a.test)
    test = a.test if data == 'fmnist' else 0.3
    sss = StratifiedShuffleSplit(a.splits, test_size=test, random_state=0); splits = list(sss.split(X, y))
    shared = dict(X=X, y=y, classes=classes, prior=prior, pool=[p for p, _ in splits], test=[t for _, t in splits], args=a)
    strategies = {k: v for k, v in dict(STRATEGIES, **({'fusion': dict(strategy='cluster', fit='fusion')} if FUSION else {})).items()
                  if k in a.strategies.split(',') or a.strategies == 'all'}
    tasks = [(s, n, kw) for s in range(a.splits) for n, kw in strategies.items()]
    t1 = time.perf_counter()
    with get_context('spawn').Pool(a.jobs, _init, (shared,)) as p: curves = pd.concat(p.map(run_split, tasks, chunksize=1))  # fork hangs torch's thread pool
    report(data, curves, len(splits[0][0]), len(splits[0][1]), t1 - t0, time.perf_counter() - t1, a)
    return curves


def report(data, curves, n_pool, n_test, t_load, t_sim, a, write: bool = True):
    "Print the table and the reference AUCs; write the CSV and the PNG."
    l2t = pd.concat([labels_to_target(c.drop(columns=['full_auc', 'prior_auc', 'target']), c.target.iloc[0]) for _, c in curves.groupby('split')])
    refs = curves.groupby('split')[['full_auc', 'prior_auc', 'target']].first()
    cmp = compare(l2t, n_boot=1000).reindex(curves.strategy.unique())
    ci = lambda k: [f'{v:.2f} [{lo:.2f}-{hi:.2f}]' for v, lo, hi in zip(cmp[k], cmp[f'{k}_lo'], cmp[f'{k}_hi'])]
    print(f'\n== {data}: pool {n_pool}, test {n_test}, {a.splits} stratified splits x {a.seeds} seeds, step {a.step}, '
          f'budget {min(a.budget, n_pool) if n_pool != "?" else a.budget if a.budget < 10**9 else "the pool"}, head standardised by the {a.norm}, k-means (k = max(step, classes)) on {a.kmeans_dims or 1280} dims; '
          f'random share {a.random_share} in every non-random strategy')
    for k, what in [('full_auc', 'head on the whole pool'), ('prior_auc', 'zero-shot prior alone, 0 labels'), ('target', 'target')]:
        print(f'  {what:34} AUC median {refs[k].median():.3f} (splits {refs[k].min():.3f}-{refs[k].max():.3f})')
    table = pd.DataFrame({'labels median': cmp['median'], 'labels p90': cmp.p90, 'reached': cmp.reached.round(2),
                          'x fewer (median) [90% CI]': ci('x_median'), 'x fewer (p90) [90% CI]': ci('x_p90')}, index=cmp.index)
    print(table.to_string())
    print('  (intervals: 1,000 bootstrap resamples of the sessions, the same sessions for every strategy)')
    if not write: return
    print(f'  time: load+embed {t_load:.0f} s, simulation {t_sim:.0f} s')
    OUT.mkdir(exist_ok=True); curves.to_csv(OUT/f'active_learning_{data}.csv', index=False)
    plot_curves(curves, target=refs.target.median(), title=f'{data}: {a.splits} splits x {a.seeds} seeds').savefig(OUT/f'active_learning_{data}.png', dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', choices=['demo', 'fmnist', 'both'], default='both')
    p.add_argument('--splits', type=int, default=5); p.add_argument('--seeds', type=int, default=10)
    p.add_argument('--pool', type=int, default=5000, help='Fashion-MNIST pool size'); p.add_argument('--test', type=int, default=1000, help='Fashion-MNIST test size')
    p.add_argument('--step', type=int, default=0, help='labels per batch (default: 5 on demo, 10 on fmnist)')
    p.add_argument('--budget', type=int, default=0, help='labels per session at most (default: the whole pool on demo, 200 on fmnist)')
    p.add_argument('--norm', choices=['pool', 'labelled'], default='pool', help="standardise the head's features by the pool's statistics or the labelled items' (LinearHead.fit)")
    p.add_argument('--kmeans-dims', type=int, default=32, help="PCA dimensions that `cluster`'s k-means runs on (0: all 1280)")
    p.add_argument('--random-share', type=float, default=0.1, help='share of random picks in the non-random strategies')
    p.add_argument('--jobs', type=int, default=2, help='worker processes')
    p.add_argument('--strategies', default='all', help=f"comma-separated, of: {', '.join(STRATEGIES)} (random is the baseline)")
    p.add_argument('--reprint', action='store_true', help="print the table again from bench/out's curves, without simulating")
    a = p.parse_args()
    for data in (['demo', 'fmnist'] if a.data == 'both' else [a.data]): (reprint if a.reprint else bench)(data, a)


if __name__ == '__main__':
    main()
