"""Active learning: how many labels each labelling policy needs to reach a target ROC-AUC, against random, in the same run.

The simulation is `hotdog.active.simulate_labelling`, which runs `hotdog.acquire.Policy.rank`, the labelling queue's own
policy: the row 'default' is `Policy()`, exactly what `Queue` runs when given no policy (typical start of 30 labels,
then uncertainty within k-means clusters, 10% random picks counted over the session, the zero-shot prior blended in as
30 labels, a refit every 10 labels). The head is the queue's: `hotdog.head.fit_head`, standardised by the pool's
statistics (`--norm labelled`: by the labelled items' own). k-means runs on the pool's embeddings projected on their
first 32 principal components (`Policy.kmeans_dims`, fitted on the pool, no labels).
For each data set: stratified pool/test splits x seeds; per session the number of labels at which the held-out
ROC-AUC (macro one-vs-rest for more than two classes) first reaches the target, min(0.95, 98% of the AUC that a head
trained on the whole pool reaches on that split). Printed: median and 90th percentile per policy and the ratio of
random's to each (x fewer labels), with 90% bootstrap intervals.

Usage: nice .venv/bin/python bench/active_learning.py [--data demo|fmnist|both] [--splits 5] [--seeds 10] [--pool 5000]
       [--test 1000] [--step 0 (each policy's refit_every)] [--budget pool on demo, 200 on fmnist] [--norm pool|labelled]
       [--policies all] [--jobs 2]
Writes bench/out/active_learning_<data>.csv (the curves) and .png (median and 10-90% band per policy).
`--reprint` prints the table again from the curves the last run wrote.
"""
import argparse
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedShuffleSplit

from hotdog.acquire import Policy
from hotdog.active import compare, labels_to_target, plot_curves, simulate_labelling
from hotdog.evaluate import Evaluation
from hotdog.head import feature_stats, fit_head
from hotdog.data import ingest
from hotdog.datasets import FMNIST_CLASSES, demo_dataset, fashion_mnist
from hotdog.model import embed, imagenet_probs
from hotdog.prior import ZeroShot

OUT = Path(__file__).resolve().parent/'out'

# The ImageNet classes that stand for each Fashion-MNIST class, chosen by name before any run; 'Shirt' has no
# ImageNet class and shares what the others leave. A weak prior: ImageNet has few clothes, and these are 28 px grey.
FMNIST_PRIOR = {'T-shirt/top': ['jersey'], 'Trouser': ['jean'], 'Pullover': ['sweatshirt', 'cardigan'],
                'Dress': ['gown', 'overskirt', 'hoopskirt', 'miniskirt'], 'Coat': ['trench coat', 'fur coat', 'lab coat', 'cloak'],
                'Sandal': ['sandal'], 'Sneaker': ['running shoe'], 'Bag': ['purse', 'mailbag', 'backpack', 'plastic bag'],
                'Ankle boot': ['cowboy boot']}

# name: the policy (see `Policy.name`). 'default' is the queue's; the others show what each part of it is worth: plain
# uncertainty after a random start, the typical start without the prior, the prior as the cold start.
POLICIES = {'random': Policy.from_name('random'), 'default': Policy(),
            'random10+entropy': Policy.from_name('random10+entropy'), 'random10+cluster': Policy.from_name('random10+cluster'),
            'typical30+cluster': Policy.from_name('typical30+cluster'), 'prior10+cluster+prior30': Policy.from_name('prior10+cluster+prior30')}


def load(name: str, pool: int, test: int):
    "Embeddings [N, 1280], labels, class names and the zero-shot prior [N, C] of a data set."
    if name == 'demo': ds, zs = ingest(demo_dataset(), progress=False), ZeroShot(['food', 'not_food'], {'food': 'food'})
    else: ds, zs = ingest(fashion_mnist('train', n=pool + test, seed=0), progress=False), ZeroShot(FMNIST_CLASSES, FMNIST_PRIOR)
    X = embed(ds.items, progress=True)
    return X, np.array(ds.labels), zs.classes, zs.from_imagenet(imagenet_probs(X))


DATA = {}  # the data set and its splits, in each worker process


def _init(shared: dict):
    DATA.update(shared)


def auc(probs, y, classes) -> float: return Evaluation(y, probs, classes).roc_auc()


def run_split(task):
    "Curves of one policy on one split, with that split's reference AUCs and target."
    split, name, policy = task; X, y, classes, prior, pool_i, test_i, a = (DATA[k] for k in ('X', 'y', 'classes', 'prior', 'pool', 'test', 'args'))
    Xp, Xt, yp, yt = X[pool_i[split]], X[test_i[split]], y[pool_i[split]], y[test_i[split]]
    if a.step: policy = Policy(**{**vars(policy), 'refit_every': a.step})
    fit = (lambda X_, y_, c, s: fit_head(X_, y_, c, seed=s)) if a.norm == 'labelled' else None  # None: the queue's, by the pool
    full = auc(fit_head(Xp, yp, classes, norm=feature_stats(Xp)).predict_proba(Xt), yt, classes)
    c = simulate_labelling(Xp, yp, policy, seeds=range(a.seeds), X_test=Xt, y_test=yt, classes=classes, name=name,
                           budget=min(a.budget, len(yp)), prior_probs=prior[pool_i[split]], fit=fit)
    return c.assign(split=split, full_auc=full, prior_auc=auc(prior[test_i[split]], yt, classes), target=min(0.95, 0.98 * full))


def reprint(data: str, a):
    "The table again, from the curves the last run wrote (no simulation)."
    report(data, pd.read_csv(OUT/f'active_learning_{data}.csv'), '?', '?', 0, 0, _defaults(data, a), write=False)


def _defaults(data: str, a):
    "The arguments, with the data set's default step and budget."
    return argparse.Namespace(**{**vars(a), 'budget': a.budget or (10**9 if data == 'demo' else 200)})


def bench(data: str, a) -> pd.DataFrame:
    "Run every policy on every split of `data`, print the table, write the curves and the figure."
    a = _defaults(data, a)
    t0 = time.perf_counter(); X, y, classes, prior = load(data, a.pool, a.test)
    test = a.test if data == 'fmnist' else 0.3
    sss = StratifiedShuffleSplit(a.splits, test_size=test, random_state=0); splits = list(sss.split(X, y))
    shared = dict(X=X, y=y, classes=classes, prior=prior, pool=[p for p, _ in splits], test=[t for _, t in splits], args=a)
    policies = {k: v for k, v in POLICIES.items() if k in a.policies.split(',') or a.policies == 'all'}
    tasks = [(s, n, p) for s in range(a.splits) for n, p in policies.items()]
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
    between = a.step or 'per policy'
    print(f'\n== {data}: pool {n_pool}, test {n_test}, {a.splits} stratified splits x {a.seeds} seeds, labels between refits {between}, '
          f'budget {min(a.budget, n_pool) if n_pool != "?" else a.budget if a.budget < 10**9 else "the pool"}, head standardised by the {a.norm}; '
          f"default = {Policy().name}, random share {Policy().random_share}, refit every {Policy().refit_every}")
    for k, what in [('full_auc', 'head on the whole pool'), ('prior_auc', 'zero-shot prior alone, 0 labels'), ('target', 'target')]:
        print(f'  {what:34} AUC median {refs[k].median():.3f} (splits {refs[k].min():.3f}-{refs[k].max():.3f})')
    table = pd.DataFrame({'labels median': cmp['median'], 'labels p90': cmp.p90, 'reached': cmp.reached.round(2),
                          'x fewer (median) [90% CI]': ci('x_median'), 'x fewer (p90) [90% CI]': ci('x_p90')}, index=cmp.index)
    print(table.to_string())
    print('  (intervals: 1,000 bootstrap resamples of the sessions, the same sessions for every policy)')
    if not write: return
    print(f'  time: load+embed {t_load:.0f} s, simulation {t_sim:.0f} s')
    OUT.mkdir(exist_ok=True); curves.to_csv(OUT/f'active_learning_{data}.csv', index=False)
    plot_curves(curves, target=refs.target.median(), title=f'{data}: {a.splits} splits x {a.seeds} seeds').savefig(OUT/f'active_learning_{data}.png', dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', choices=['demo', 'fmnist', 'both'], default='both')
    p.add_argument('--splits', type=int, default=5); p.add_argument('--seeds', type=int, default=10)
    p.add_argument('--pool', type=int, default=5000, help='Fashion-MNIST pool size'); p.add_argument('--test', type=int, default=1000, help='Fashion-MNIST test size')
    p.add_argument('--step', type=int, default=0, help="labels between refits (default: each policy's refit_every)")
    p.add_argument('--budget', type=int, default=0, help='labels per session at most (default: the whole pool on demo, 200 on fmnist)')
    p.add_argument('--norm', choices=['pool', 'labelled'], default='pool', help="standardise the head's features by the pool's statistics or the labelled items'")
    p.add_argument('--jobs', type=int, default=2, help='worker processes')
    p.add_argument('--policies', default='all', help=f"comma-separated, of: {', '.join(POLICIES)} (random is the baseline)")
    p.add_argument('--reprint', action='store_true', help="print the table again from bench/out's curves, without simulating")
    a = p.parse_args()
    for data in (['demo', 'fmnist'] if a.data == 'both' else [a.data]): (reprint if a.reprint else bench)(data, a)


if __name__ == '__main__':
    main()
