"""Annotator minutes to a good model: simulated annotator time until the head reaches the target held-out ROC-AUC.

Each session drives the real labelling queue (`hotdog.queue.Queue`, inline refits, a throwaway store on tmpfs) with an
oracle, page by page, and costs every page with the Keystroke-Level Model (Card, Moran & Newell):
  grid page     M (1.35 s: one decision per page) + a 0.2 s glance per tile + K (0.28 s) for Enter + the page-turn
                latency; each wrong pre-label costs one more decision M and a key per flip to its class (a tile's key
                moves it to the model's next guess, so a tile whose class is the k-th likeliest takes k-1 keys)
  single mode   M + K per label (a class key, or Enter to take the suggestion) + the key's latency
  pigeon        M + point (1.1 s) + click (0.2 s) per label, in random order, no suggestions
  auto          each screen costed as what it is: the queue shows a grid page or a single item, as `Policy.screen`
                finds cheaper for the next items (the same KLM costs, from `hotdog.acquire.KLM`)
After every refit the queue's head (the one `hotdog.head.fit_head` fits, standardised by the pool; the zero-shot prior
is not counted, only what the labels taught) is measured on a held-out split; a session's figure is the annotator time
at which that ROC-AUC first reaches the target, min(0.95, 98% of a whole-pool head's), as in bench/active_learning.py.
Printed per data set and configuration: median and 90th percentile of minutes to target over splits x seeds, labels
at that point, corrections per grid page, and pigeon+random's median divided by each (x less time; the target is 15x);
and labels per minute of the grid pages and of the whole session, under this (strict) costing, until the target, or with
--whole until every item of the pool is labelled (what bench/annotate.py's scripted annotator does). Last, the bound the
data set puts on grid pages under the strict costing: the share of it that a head fitted on the rest gets wrong
(10-fold cross-validation), costed as the corrections of a page of 20 and of 40.

Data sets: the demo photos (food / not_food, 343), Tux Paint by topic (animals / food / plants / other, the same
photos, 4 classes), Fashion-MNIST (10 classes; pool --pool, test --test).
Usage: nice .venv/bin/python bench/annotator_time.py [--data demo,topics,fmnist] [--splits 5] [--seeds 10]
       [--configs all] [--jobs 2] [--pool 2000] [--test 1000] [--latency 0.05] [--whole]
Writes bench/out/annotator_time_<data>.csv (one row per session).
"""
import argparse
import dataclasses
import shutil
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

from hotdog.acquire import KLM, Policy
from hotdog.data import Dataset, ingest
from hotdog.datasets import FMNIST_CLASSES, demo_dataset, fashion_mnist
from hotdog.evaluate import Evaluation
from hotdog.head import feature_stats, fit_head
from hotdog.model import embed
from hotdog.prior import Blend, ZeroShot
from hotdog.queue import Queue
from hotdog.store import Store, add_dataset

OUT = Path(__file__).resolve().parent/'out'
M, K, POINT, CLICK, GLANCE = KLM['decide'], KLM['key'], KLM['point'], KLM['click'], KLM['glance']

FMNIST_PRIOR = {'T-shirt/top': ['jersey'], 'Trouser': ['jean'], 'Pullover': ['sweatshirt', 'cardigan'],
                'Dress': ['gown', 'overskirt', 'hoopskirt', 'miniskirt'], 'Coat': ['trench coat', 'fur coat', 'lab coat', 'cloak'],
                'Sandal': ['sandal'], 'Sneaker': ['running shoe'], 'Bag': ['purse', 'mailbag', 'backpack', 'plastic bag'],
                'Ankle boot': ['cowboy boot']}
PLANTS = ['daisy', "yellow lady's slipper", 'corn', 'acorn', 'hip', 'buckeye', 'coral fungus', 'agaric', 'gyromitra', 'stinkhorn',
          'earthstar', 'hen-of-the-woods', 'bolete', 'ear', 'pot', 'vase', 'greenhouse']
TOPICS_PRIOR = {'animals': list(range(0, 398)), 'food': 'food', 'plants': PLANTS}

# name: (mode, page size, policy, scorer?, sure). 'old grid' is the queue's default before the redesign: entropy after a
# typical first page (until the first refit), the prior in the pre-labels as 80 labels, a refit every 20 labels.
# 'sure t': auto mode's triage (`Queue(sure=t)`): grid pages of the items the model is sure of, the others one at a time.
CONFIGS = {'pigeon+random': ('pigeon', 1, Policy('random', 'random', 0, random_share=0, prior_weight=0), False),
           'single+default': ('single', 20, Policy(), True),
           'single (refit every label)': ('single', 1, Policy(), True),
           'old grid 40 (entropy; prior 80)': ('grid', 40, Policy('entropy', 'typical', 40, 0.1, 80.0, 20), True),
           'grid 40 + default': ('grid', 40, Policy(), True),
           'grid 20 + default': ('grid', 20, Policy(), True),
           'grid 10 + default': ('grid', 10, Policy(), True),
           'grid 20 + prior 80': ('grid', 20, Policy(prior_weight=80.0), True),
           'grid 40 + prior 80': ('grid', 40, Policy(prior_weight=80.0), True),
           'grid 40 + confident': ('grid', 40, Policy('confident', 'typical', 30, 0.1, 30.0), True),
           'auto 20 + default': ('auto', 20, Policy(), True),
           'auto 10 + default': ('auto', 10, Policy(), True),
           'auto 40 + default': ('auto', 40, Policy(), True),
           'auto 20 + sure 0.02': ('auto', 20, Policy(), True, 0.02),
           'auto 20 + sure 0.05': ('auto', 20, Policy(), True, 0.05),
           'auto 20 + sure 0.15': ('auto', 20, Policy(), True, 0.15),
           'auto 40 + sure 0.02': ('auto', 40, Policy(), True, 0.02),
           'auto 40 + sure 0.05': ('auto', 40, Policy(), True, 0.05)}


def topics_manifest() -> Path:
    "The demo photos labelled by their Tux Paint topic: animals, food, plants or other."
    m = Path(demo_dataset()); df = pd.read_csv(m)
    topic = df.path.str.split('stamps/').str[1].str.split('/').str[0]
    df['label'] = np.where(df.label == 'food', 'food', np.where(topic.isin(['animals', 'plants']), topic, 'other'))
    out = m.parent/'topics.csv'; df.to_csv(out, index=False)
    return out


def load(name: str, pool: int, test: int):
    "(Dataset, embeddings, labels, classes, zero-shot prior spec) of a data set."
    if name == 'demo': ds, classes, prior = ingest(demo_dataset(), progress=False), ['food', 'not_food'], {'food': 'food'}
    elif name == 'topics': ds, classes, prior = ingest(topics_manifest(), progress=False), ['animals', 'food', 'other', 'plants'], TOPICS_PRIOR
    else: ds, classes, prior = ingest(fashion_mnist('train', n=pool + test, seed=0), progress=False), FMNIST_CLASSES, FMNIST_PRIOR
    return ds, embed(ds.items, progress=True), np.array(ds.labels), classes, prior


def page_cost(q: Queue, truth: dict, kind: str, latency: float) -> tuple:
    "(seconds, corrections, labels) of the screen now shown, as the oracle deals with it (flips go to the queue)."
    if kind == 'pigeon': return M + POINT + CLICK + latency, 0, 1
    if q.mode == 'single': return M + K + latency, int(q.page[0]['choice'] != truth[q.page[0]['item']]), 1
    C, secs, wrong = q.classes, M + GLANCE * len(q.page) + K + latency, 0
    for i, t in enumerate(q.page):
        want = truth[t['item']]
        if t['choice'] != want:
            r = t.get('ranked') or C  # a flip goes to the model's next guess (`Queue.flip`)
            keys = (r.index(want) - r.index(t['choice'])) % len(r) if t['choice'] is not None else 1
            secs, wrong = secs + M + K * keys + latency * keys, wrong + 1
            q.flip(i, want)
    return secs, wrong, len(q.page)


def head_auc(q: Queue, X_test, y_test) -> float:
    "Held-out ROC-AUC of what the labels taught: the queue's refitted head without the prior (0.5 before one)."
    if q.fits == 0: return 0.5
    head = q.scorer.head if isinstance(q.scorer, Blend) else q.scorer
    return Evaluation(y_test, head.predict_proba(X_test), q.classes).roc_auc()


def session(ds: Dataset, pool_i, truth: dict, classes, prior, cfg, seed: int, X_test, y_test, target: float, budget: int, latency: float,
            whole: bool = False) -> dict:
    """One labelling session: annotator seconds and labels when the head first reaches `target`; and the seconds and labels
    of its grid pages and of the whole session (`whole`: labelling on to the end of the pool, or `budget`)."""
    kind, page, policy, scored, sure = (cfg + (None,))[:5]
    d = Path(tempfile.mkdtemp(dir='/dev/shm' if Path('/dev/shm').is_dir() else None))
    try:
        st = Store(d/'s.sqlite', annotator='oracle'); add_dataset(st, dataclasses.replace(ds, items=[ds.items[i] for i in pool_i]))
        q = Queue(st, classes, mode='single' if kind == 'pigeon' else kind, page_size=page, scorer=ZeroShot(classes, prior) if scored else None,
                  policy=policy, seed=seed, background=False, name='sim', sure=sure)
        secs, labels, pages, wrong, fits, singles, grid_secs, grid_labels, hit = 0.0, 0, 0, 0, 0, 0, 0.0, 0, None
        while q.page and labels < budget:
            s, w, n = page_cost(q, truth, kind, latency)
            grid = q.mode == 'grid' and kind != 'pigeon'
            if kind == 'pigeon' or (not grid and w): q.submit(truth[q.page[0]['item']])
            else: q.accept()
            secs, labels, pages, wrong = secs + s, labels + n, pages + int(grid), wrong + (w if grid else 0)
            singles += int(not grid and kind != 'pigeon')
            grid_secs, grid_labels = grid_secs + (s if grid else 0), grid_labels + (n if grid else 0)
            if q.fits > fits and hit is None:
                fits = q.fits
                if head_auc(q, X_test, y_test) >= target:
                    hit = dict(seconds=secs, labels=labels, pages=pages, corrections=wrong, singles=singles, reached=True)
                    if not whole: break
        hit = hit or dict(seconds=np.inf, labels=labels, pages=pages, corrections=wrong, singles=singles, reached=False)
        return dict(hit, grid_seconds=grid_secs, grid_labels=grid_labels, session_seconds=secs, session_labels=labels,
                    session_pages=pages, session_corrections=wrong)
    finally:
        shutil.rmtree(d, ignore_errors=True)


DATA = {}


def _init(shared: dict):
    DATA.update(shared); torch.set_num_threads(1)


def run(task) -> dict:
    "One session of one configuration on one split."
    split, name, seed = task; a = DATA['args']
    ds, X, y, classes, prior, pool_i, test_i, target = (DATA[k] for k in ('ds', 'X', 'y', 'classes', 'prior', 'pool', 'test', 'target'))
    truth = {it.hash: it.label for it in ds.items}
    r = session(ds, pool_i[split], truth, classes, prior, CONFIGS[name], seed, X[test_i[split]], y[test_i[split]], target[split],
                len(pool_i[split]) if a.whole else min(a.budget, len(pool_i[split])), a.latency, a.whole)
    return dict(config=name, split=split, seed=seed, target=target[split], **r)


def bench(data: str, a) -> pd.DataFrame:
    "Every configuration on every split and seed of `data`; prints the table, writes the sessions."
    t0 = time.perf_counter(); ds, X, y, classes, prior = load(data, a.pool, a.test)
    splits = list(StratifiedShuffleSplit(a.splits, test_size=a.test if data == 'fmnist' else 0.3, random_state=0).split(X, y))
    full = [Evaluation(y[te], fit_head(X[tr], y[tr], classes, norm=feature_stats(X[tr])).predict_proba(X[te]), classes).roc_auc() for tr, te in splits]
    shared = dict(ds=ds, X=X, y=y, classes=classes, prior=prior, pool=[p for p, _ in splits], test=[t for _, t in splits],
                  target=[min(0.95, 0.98 * f) for f in full], args=a)
    configs = [c for c in CONFIGS if a.configs == 'all' or c in a.configs.split(',')]
    tasks = [(s, c, seed) for s in range(a.splits) for c in configs for seed in range(a.seeds)]
    with get_context('spawn').Pool(a.jobs, _init, (shared,)) as p: df = pd.DataFrame(p.map(run, tasks, chunksize=1))
    report(data, df, len(splits[0][0]), full, grid_bound(X, y, classes, a.latency), time.perf_counter() - t0, a)
    OUT.mkdir(exist_ok=True); df.to_csv(OUT/f'annotator_time_{data}.csv', index=False)
    return df


def grid_bound(X, y, classes, latency: float, folds: int = 10) -> dict:
    """What the data allow grid pages under the strict costing: the share of the data set that a head fitted on the rest
    gets wrong (`folds`-fold cross-validation, the head `fit_head` fits), and the labels per minute of pages of 20 and
    of 40 if every tile were wrong that often and each wrong tile took one decision and one key. A whole session labels
    every item of its pool, most of them with a head that knows fewer labels than this one, so its grid pages do no better
    unless the doubtful items leave the grid."""
    wrong = 0
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
        p = fit_head(X[tr], y[tr], classes, norm=feature_stats(X)).predict_proba(X[te])
        wrong += int((np.asarray(classes)[p.argmax(1)] != y[te]).sum())
    err = wrong / len(y); out = dict(cv_error=err, folds=folds)
    for n in (20, 40): out[n] = 60 / (GLANCE + (M + K + latency) / n + err * (M + K + latency))
    return out


def _q(v, q: float) -> float:
    v = np.sort(np.asarray(v, float)); x = np.quantile(np.where(np.isinf(v), 1e12, v), q)
    return float(np.inf if x >= 1e12 else x)


def report(data: str, df: pd.DataFrame, n_pool, full, bound: dict, secs: float, a):
    "Minutes to target per configuration, and pigeon+random's median divided by each."
    g = df.groupby('config', sort=False)
    t = pd.DataFrame({'min median': g.seconds.apply(lambda v: _q(v, .5) / 60), 'min p90': g.seconds.apply(lambda v: _q(v, .9) / 60),
                      'labels median': g.labels.median(), 'reached': g.reached.mean(),
                      'corrections/page': g.apply(lambda d: d.corrections.sum() / max(1, d.pages.sum()), include_groups=False),
                      'single share': g.apply(lambda d: d.singles.sum() / max(1, d.labels.sum()), include_groups=False)})
    base = t.loc['pigeon+random', 'min median'] if 'pigeon+random' in t.index else np.nan
    t['x less time (median)'] = base / t['min median']
    pigeon = 60 / (M + POINT + CLICK + a.latency)  # pigeon's labels per minute
    t['grid pages: labels/min'] = g.apply(lambda d: 60 * d.grid_labels.sum() / d.grid_seconds.sum() if d.grid_seconds.sum() else np.nan, include_groups=False)
    t['session: labels/min'] = g.apply(lambda d: 60 * d.session_labels.sum() / d.session_seconds.sum(), include_groups=False)
    t['grid x pigeon'], t['session x pigeon'] = t['grid pages: labels/min'] / pigeon, t['session: labels/min'] / pigeon
    t['session corrections/page'] = g.apply(lambda d: d.session_corrections.sum() / max(1, d.session_pages.sum()), include_groups=False)
    print(f"\n== {data}: pool {n_pool}, {a.splits} splits x {a.seeds} seeds, whole-pool head AUC {np.median(full):.3f}, target "
          f"min(0.95, 0.98 x that); latency {a.latency} s per page turn or key; default policy {Policy().name}; labels/min "
          f"{'over the whole pool' if a.whole else 'until the target'}")
    with pd.option_context('display.width', 200): print(t.round(3).to_string())
    print(f"  bound: a head fitted on the rest gets {100 * bound['cv_error']:.1f}% of the data set wrong ({bound['folds']}-fold); with that "
          f"share of tiles corrected, grid pages reach about {bound[20]:.0f} labels/min with 20 tiles ({bound[20] / pigeon:.1f}x "
          f"pigeon) and {bound[40]:.0f} with 40 ({bound[40] / pigeon:.1f}x) at most, strict costing")
    print(f'  time: {secs:.0f} s')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='demo,topics,fmnist'); p.add_argument('--splits', type=int, default=5); p.add_argument('--seeds', type=int, default=10)
    p.add_argument('--configs', default='all', help=f"comma-separated, of: {', '.join(CONFIGS)}")
    p.add_argument('--pool', type=int, default=2000, help='Fashion-MNIST pool'); p.add_argument('--test', type=int, default=1000, help='Fashion-MNIST test split')
    p.add_argument('--budget', type=int, default=400, help='labels per session at most')
    p.add_argument('--latency', type=float, default=0.05, help='seconds of latency per page turn or key (measured by bench/annotate.py)')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--whole', action='store_true', help='label on to the end of the pool after the target (labels per minute of a whole session)')
    a = p.parse_args()
    for data in a.data.split(','): bench(data, a)


if __name__ == '__main__':
    main()
