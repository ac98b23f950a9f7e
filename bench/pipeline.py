"""The scoring pipeline (`hotdog.pipeline.score` on a Dask LocalCluster) against `predict_batch` in one process, all measured in this run.

Prints: images/s of `score` with 1 and 2 workers against `predict_batch` on the same images and cores; files/s of
`ingest_parallel` against `ingest` in one process on the same files; peak RSS of the driver and of each worker at a small
and a large size; the work of a run interrupted (Ctrl-C) and resumed as a share of one clean run, and whether both give
the same shards; and draft-mode against full JPEG decoding on camera-sized photos.
Data: Fashion-MNIST written out as PNG files (once, into the cache), then generated small JPEGs up to the size asked.
Usage: nice .venv/bin/python bench/pipeline.py [--n 400] [--rounds 3] [--sizes 1000,10000] [--workers 2] [--partition 256]
       [--ingest-n 5000] [--ingest-photos 200] [--resume-n 6000] [--photos 12] [--memory-only | --resume-only]
"""
import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
from PIL import Image

from hotdog.core import cache_dir, get_config
from hotdog.data import decode
from hotdog.datasets import fashion_mnist, sample_photos
from hotdog.fixtures import synthetic_image
from hotdog.pipeline import draft_side, read_run, score, shard_timings

ROOT = Path(__file__).resolve().parents[1]


def listing(n: int, dest: Path) -> Path:
    "A Parquet listing of n image files: Fashion-MNIST train, then test, as PNGs; beyond 70,000, generated 64 px JPEGs."
    paths = []
    for split, size in (('train', 60000), ('test', 10000)):
        if len(paths) >= n: break
        k = min(size, n - len(paths)); man = fashion_mnist(split, None if k == size else k)
        paths += [str(man.parent/p) for p in pd.read_csv(man).path]
    gen = cache_dir()/'pipeline-bench'/'jpeg'
    for i in range(n - len(paths)):
        p = gen/f'{i // 10000:03d}'/f'{i:07d}.jpg'
        if not p.exists(): p.parent.mkdir(parents=True, exist_ok=True); synthetic_image(i % 2, i, 64).save(p, quality=85)
        paths.append(str(p))
    out = dest/f'listing-{n}.parquet'; pd.DataFrame({'path': paths[:n]}).to_parquet(out, index=False)
    return out


class Sampler:
    "Peak RSS and CPU seconds of a process and its children, sampled in a thread every `every` seconds; the driver's also once shards appear in `out`, and at each tenth of the shards written."
    def __init__(self, pid: int, out, every: float = 0.2):
        self.pid, self.out, self.every, self.rss, self.cpu, self.stop, self.first = pid, Path(out), every, {}, {}, threading.Event(), None
        self.total, self.series = None, {}  # shards in the run; tenth of them written -> the driver's RSS then
        self.t = threading.Thread(target=self._run, daemon=True); self.t.start()

    def _run(self):
        while not self.stop.is_set():
            try: procs = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
            except psutil.NoSuchProcess: return
            written = sum(1 for _ in self.out.glob('part-*.parquet')); started = written > 0
            if self.total is None and (self.out/'_manifest.parquet').exists():
                try: self.total = pq.ParquetFile(self.out/'_manifest.parquet').metadata.num_rows
                except Exception: pass  # being written
            for p in procs:
                try:
                    with p.oneshot(): rss, c = p.memory_info().rss, p.cpu_times()
                except psutil.Error: continue
                if started and p.pid == self.pid and self.first is None: self.first = rss  # the driver once listed and scoring
                if p.pid == self.pid and self.total: self.series.setdefault(10 * written // self.total, rss)
                self.rss[p.pid] = max(self.rss.get(p.pid, 0), rss); self.cpu[p.pid] = max(self.cpu.get(p.pid, 0), c.user + c.system)
            time.sleep(self.every)

    def done(self) -> dict:
        self.stop.set(); self.t.join()
        workers = [v for k, v in self.rss.items() if k != self.pid]
        return {'driver_mb': self.rss.get(self.pid, 0) / 2**20, 'driver_growth_mb': (self.rss.get(self.pid, 0) - (self.first or 0)) / 2**20, 'worker_mb': max(workers, default=0) / 2**20,
                'worker_cpu_s': sum(v for k, v in self.cpu.items() if k != self.pid), 'driver_series_mb': {k: v / 2**20 for k, v in sorted(self.series.items())}}


SCRIPT = '''
import json, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a terminal, even when this bench runs as a background job (SIGINT ignored)
from hotdog.pipeline import score
try: r = score(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), partition=int(sys.argv[4]), progress=False)
except KeyboardInterrupt: sys.exit(130)
print(json.dumps(r))
'''


def driver(source, out, workers: int, partition: int, stop_after: int | None = None) -> tuple:
    "Run `score` in a driver process of its own, sampled; with `stop_after`, Ctrl-C (SIGINT to its process group) once that many shards are written."
    import json
    p = subprocess.Popen([sys.executable, '-c', SCRIPT, str(source), str(out), str(workers), str(partition)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, 'PYTHONPATH': str(ROOT)}, start_new_session=True)
    s = Sampler(p.pid, out)
    if stop_after is not None:
        while len(list(Path(out).glob('part-*.parquet'))) < stop_after and p.poll() is None: time.sleep(0.05)
        os.killpg(p.pid, signal.SIGINT)
    so, _ = p.communicate(); stats = s.done()
    return (json.loads(so.strip().splitlines()[-1]) if p.returncode == 0 else None), stats


def shards(out) -> list:
    "Every shard of a run as an Arrow table, in order."
    return [pq.read_table(f) for f in sorted(Path(out).glob('part-*.parquet'))]


def camera_jpegs(k: int, dest: Path) -> list:
    "k camera-sized (4000x3000) JPEGs: real sample photos upscaled, with sensor-like noise."
    photos = sorted(p for p in sample_photos(dest/'photos').rglob('*') if p.is_file())
    rng, out = np.random.default_rng(0), []
    for i in range(k):
        im = Image.open(photos[i % len(photos)]).convert('RGB').resize((4000, 3000), Image.BICUBIC)
        a = np.asarray(im, np.int16) + rng.normal(0, 4, (3000, 4000, 3)).astype(np.int16)
        b = io.BytesIO(); Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(b, 'JPEG', quality=90); out.append(b.getvalue())
    return out


def photo_folder(k: int, dest: Path) -> Path:
    "A folder of k photo-sized (2000x1500) JPEGs, made once into the cache: real sample photos resized, with sensor-like noise."
    out = cache_dir()/'pipeline-bench'/'photos-2000'; out.mkdir(parents=True, exist_ok=True)
    have = sorted(out.glob('*.jpg'))
    if len(have) >= k: return out if len(have) == k else _subset(have[:k], dest)
    photos = sorted(p for p in sample_photos(dest/'photos').rglob('*') if p.is_file()); rng = np.random.default_rng(1)
    for i in range(len(have), k):
        im = Image.open(photos[i % len(photos)]).convert('RGB').resize((2000, 1500), Image.BICUBIC)
        a = np.asarray(im, np.int16) + rng.normal(0, 4, (1500, 2000, 3)).astype(np.int16)
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(out/f'{i:05d}.jpg', quality=90)
    return out


def _subset(files: list, dest: Path) -> Path:
    "A folder of symlinks to `files`."
    d = dest/'photo-subset'; d.mkdir()
    for f in files: (d/f.name).symlink_to(f)
    return d


def decode_rate(datas: list, draft) -> tuple:
    "(images/s, the backbone inputs) of decoding and preparing `datas`, drafted or not."
    from hotdog.model import prepare
    cfg = get_config(); t = time.perf_counter()
    arrays = [prepare(decode(d, draft=draft), cfg.geometry, cfg.image_size) for d in datas]
    return len(datas) / (time.perf_counter() - t), arrays


def ingest_rates(manifest: Path, workers: int, rounds: int, tmp: Path) -> tuple:
    "(table rows, facts) of `ingest` in one process against `ingest_parallel` on a local cluster of `workers`, without and with thumbnails, in interleaved rounds."
    from distributed import Client
    from hotdog.data import ingest, thumbnail
    from hotdog.pipeline import ingest_parallel, local_cluster
    ref = ingest(manifest, progress=False); n = len(ref.items) + len(ref.skipped) + len(ref.duplicates)  # and the files are in the page cache for every contender
    t = time.perf_counter(); lc = local_cluster(workers); c = Client(lc, set_as_default=False); c.wait_for_workers(workers); startup = time.perf_counter() - t
    rate = {k: [] for k in ('one', 'par', 'one+t', 'par+t')}; same = True
    def timed(key, fn):
        t = time.perf_counter(); out = fn(); rate[key].append(n / (time.perf_counter() - t)); return out
    def with_thumbs(cfg):
        ds = ingest(manifest, cfg=cfg, progress=False)
        for it in ds.items: thumbnail(it, cfg.thumb_size, cfg.cache_dir)
        return ds
    try:
        for k in range(rounds):
            a = timed('one', lambda: ingest(manifest, progress=False))
            b = timed('par', lambda: ingest_parallel(manifest, cluster=c, thumbnails=False, progress=False))
            timed('one+t', lambda: with_thumbs(get_config(cache_dir=tmp/f'thumbs-one-{k}')))
            timed('par+t', lambda: ingest_parallel(manifest, cluster=c, cfg=get_config(cache_dir=tmp/f'thumbs-par-{k}'), progress=False))
            same = same and (a.items, a.skipped, a.duplicates) == (b.items, b.skipped, b.duplicates) == (ref.items, ref.skipped, ref.duplicates)
            print(f"round {k}: ingest {rate['one'][-1]:.0f}, ingest_parallel {rate['par'][-1]:.0f}; with thumbnails {rate['one+t'][-1]:.0f}, {rate['par+t'][-1]:.0f} files/s", flush=True)
    finally: c.close(); lc.close()
    t = time.perf_counter(); ingest_parallel(manifest, workers=workers, cfg=get_config(cache_dir=tmp/'thumbs-cold'), progress=False); cold = n / (time.perf_counter() - t)
    same_thumbs = all((tmp/'thumbs-one-0'/'thumbs'/'192'/it.hash[:2]/f'{it.hash}.jpg').read_bytes() == (tmp/'thumbs-par-0'/'thumbs'/'192'/it.hash[:2]/f'{it.hash}.jpg').read_bytes() for it in ref.items)
    for k in range(rounds): shutil.rmtree(tmp/f'thumbs-one-{k}', ignore_errors=True); shutil.rmtree(tmp/f'thumbs-par-{k}', ignore_errors=True)
    best = {k: max(v) for k, v in rate.items()}; rounds_of = lambda k: ', '.join(f'{v:.0f}' for v in rate[k])
    rows = [('`ingest`, one process', f"{best['one']:.0f}", '1.00x', rounds_of('one')),
            (f'`ingest_parallel`, {workers} workers (a running cluster)', f"{best['par']:.0f}", f"{best['par'] / best['one']:.2f}x", rounds_of('par')),
            ('`ingest` + `thumbnail` of each item, one process', f"{best['one+t']:.0f}", '1.00x', rounds_of('one+t')),
            (f'`ingest_parallel`, {workers} workers, thumbnails made on the way', f"{best['par+t']:.0f}", f"{best['par+t'] / best['one+t']:.2f}x", rounds_of('par+t')),
            (f'the same, starting its own local cluster of {workers} (start-up included)', f'{cold:.0f}', f"{cold / best['one+t']:.2f}x", 'one call')]
    return rows, {'files': n, 'items': len(ref.items), 'skipped': len(ref.skipped), 'duplicates': len(ref.duplicates), 'same': same, 'same_thumbs': same_thumbs, 'startup': startup}


def memory_runs(full: pd.DataFrame, sizes: list, tmp: Path, workers: int, partition: int) -> list:
    "(n, driver and worker memory, run result) of a clean run of each size."
    mem = []
    for n in sizes:
        part = tmp/f'size-{n}.parquet'; full[:n].to_parquet(part, index=False)
        r, st = driver(part, tmp/f'mem{n}', workers, partition); mem.append((n, st, r))
        print(f'{n} images: driver peak {st["driver_mb"]:.0f} MB (+{st["driver_growth_mb"]:.1f} MB after its first shard), worker peak {st["worker_mb"]:.0f} MB, {r["images_per_s"]:.1f} images/s', flush=True)
        print('  driver RSS as the shards are written: ' + ', '.join(f'{10 * k}% {v:.0f} MB' for k, v in st['driver_series_mb'].items()), flush=True)
    return mem


def print_memory(mem: list):
    "The peak memory table, and the largest size's peaks against the smallest's."
    print('\n| images | driver peak RSS | driver growth after its first shard | worker peak RSS | images/s |\n|---|---|---|---|---|')
    for n, st, r in mem: print(f"| {n:,} | {st['driver_mb']:.0f} MB | {st['driver_growth_mb']:+.1f} MB | {st['worker_mb']:.0f} MB | {r['images_per_s']:.1f} |")
    if len(mem) > 1: print(f"large / small: driver {mem[-1][1]['driver_mb'] / mem[0][1]['driver_mb']:.2f}x, workers {mem[-1][1]['worker_mb'] / mem[0][1]['worker_mb']:.2f}x")


def resume_run(resume_src, tmp: Path, workers: int, rp: int, n: int) -> str:
    "A clean run, and one stopped by Ctrl-C after a third of the shards then resumed: the line that compares their work and outputs."
    # Ctrl-C after a third of the shards: the shards in progress finish, the rest are left for the next call
    clean, cst = driver(resume_src, tmp/'clean', workers, rp)
    n_shards = clean['shards']
    stopped, sst = driver(resume_src, tmp/'resumed', workers, rp, stop_after=n_shards // 3)
    written = sorted((tmp/'resumed').glob('part-*.parquet')); before = len(written)
    before_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in written); first_call = shard_timings(tmp/'resumed')
    resumed, rst = driver(resume_src, tmp/'resumed', workers, rp)
    same = len(shards(tmp/'clean')) == len(shards(tmp/'resumed')) and all(x.equals(y) for x, y in zip(shards(tmp/'clean'), shards(tmp/'resumed')))
    same_rows = read_run(tmp/'clean').drop(columns=['top5_class', 'top5_p']).equals(read_run(tmp/'resumed').drop(columns=['top5_class', 'top5_p']))
    work = (sst['worker_cpu_s'] + rst['worker_cpu_s']) / cst['worker_cpu_s']
    in_clean = shard_timings(tmp/'clean').cpu_seconds.sum(); in_both = shard_timings(tmp/'resumed').cpu_seconds.sum(); in_first = first_call.cpu_seconds.sum()
    outside = (cst['worker_cpu_s'] - in_clean, sst['worker_cpu_s'] - in_first, rst['worker_cpu_s'] - (in_both - in_first))
    return (f"\nresume ({n:,} images, {n_shards} shards of {rp}): Ctrl-C once {n_shards // 3} shards were written ({before} written by the time the call ended), then the same call: "
          f"worker CPU {work:.2f}x one clean run (clean {cst['worker_cpu_s']:.0f} s; stopped {sst['worker_cpu_s']:.0f} s + resumed {rst['worker_cpu_s']:.0f} s, start-ups included); "
          f"inside the shards (the CPU seconds each records) {(in_both / in_clean):.2f}x; outside them (start-up, imports, idle) clean {outside[0]:.1f} s, stopped {outside[1]:.1f} s, resumed {outside[2]:.1f} s; "
          f"the resumed call computed {resumed['computed_rows']} images, the {before_rows} written before were kept; shards identical: {same}; rows identical: {same_rows}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=400, help='images for the throughput and resume comparisons')
    ap.add_argument('--sizes', default='1000,10000', help='run sizes for peak memory, e.g. 20000,200000')
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--partition', type=int, default=256)
    ap.add_argument('--photos', type=int, default=12, help='camera-sized JPEGs for the decoding comparison')
    ap.add_argument('--rounds', type=int, default=3, help='interleaved rounds of the throughput comparison (the best counts)')
    ap.add_argument('--ingest-n', type=int, default=5000, help='Fashion-MNIST files for the ingest comparison')
    ap.add_argument('--ingest-photos', type=int, default=200, help='photo-sized (2000x1500) JPEGs for the ingest comparison')
    ap.add_argument('--resume-n', type=int, default=6000, help='images for the interrupted-and-resumed comparison (shards of --partition)')
    ap.add_argument('--memory-only', action='store_true', help='only the peak-memory runs of --sizes (e.g. 20000,200000: about an hour here)')
    ap.add_argument('--resume-only', action='store_true', help='only the interrupted-and-resumed comparison on --resume-n images')
    a = ap.parse_args(); sizes = [int(s) for s in a.sizes.split(',')]
    tmp = Path(tempfile.mkdtemp(prefix='bench-pipeline-')); rows = []
    try:
        src = listing(max(sizes) if a.memory_only else a.resume_n if a.resume_only else max([a.n, a.resume_n, *sizes]), tmp); full = pd.read_parquet(src)
        if a.memory_only:
            print(f'sizes {sizes}; {a.workers} workers; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}', flush=True)
            print_memory(memory_runs(full, sizes, tmp, a.workers, a.partition)); return
        small = tmp/'small.parquet'; full[:a.n].to_parquet(small, index=False)
        resume_src = tmp/'resume.parquet'; full[:a.resume_n].to_parquet(resume_src, index=False)
        if a.resume_only:
            print(f'{a.workers} workers; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}', flush=True)
            print(resume_run(resume_src, tmp, a.workers, a.partition, a.resume_n)); return
        print(f'{a.n} Fashion-MNIST images for throughput; sizes {sizes}; {a.workers} workers; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}', flush=True)

        import torch
        from distributed import Client
        from hotdog.head import predict_batch  # the baseline: one process, torch on as many threads as the workers
        from hotdog.pipeline import local_cluster
        paths = full.path[:a.n].tolist(); predict_batch(paths[:32], cache=False)
        counts = sorted({1, a.workers}); clusters = {w: local_cluster(w) for w in counts}; clients = {w: Client(clusters[w], set_as_default=False) for w in counts}
        base, eng, start = {w: [] for w in counts}, {w: [] for w in counts}, {}
        try:  # rounds of each, interleaved: the machine's load drifts; the best of each counts
            for k in range(a.rounds):
                for w in counts:
                    torch.set_num_threads(w); t = time.perf_counter(); predict_batch(paths, cache=False); base[w].append(a.n / (time.perf_counter() - t))
                    t = time.perf_counter(); r = score(small, tmp/f'tp{w}-{k}', cluster=clients[w], partition=a.partition, progress=False)
                    eng[w].append(r['images_per_s']); start.setdefault(w, r['startup_seconds'])
                    print(f'round {k}: {w} thread(s) predict_batch {base[w][-1]:.1f}, score {eng[w][-1]:.1f} images/s', flush=True)
        finally:
            for w in counts: clients[w].close(); clusters[w].close()
        torch.set_num_threads(os.cpu_count())
        for w in counts:
            rows.append((f'predict_batch, one process, torch on {w} thread(s)' + (' (+1 decode thread)' if w == 1 and os.cpu_count() > 1 else ''), f'{max(base[w]):.1f}', '1.00x', f'rounds: ' + ', '.join(f'{v:.1f}' for v in base[w])))
            rows.append((f'score, LocalCluster of {w} worker(s) x 1 thread, {a.partition} a shard', f'{max(eng[w]):.1f}', f'{max(eng[w]) / max(base[w]):.2f}x',
                         f'rounds: ' + ', '.join(f'{v:.1f}' for v in eng[w]) + f'; first call: start-up {start[w]:.1f} s'))

        irows, ifacts = ingest_rates(fashion_mnist('train', a.ingest_n), a.workers, 2, tmp)
        prows, pfacts = ingest_rates(photo_folder(a.ingest_photos, tmp), a.workers, 2, tmp)

        mem = memory_runs(full, sizes, tmp, a.workers, a.partition)

        resume_line = resume_run(resume_src, tmp, a.workers, a.partition, a.resume_n)

        photos = camera_jpegs(a.photos, tmp); cfg = get_config()
        full_rate, fa = decode_rate(photos, None); draft_rate, da = decode_rate(photos, draft_side(cfg))
        diff = float(np.mean([np.abs(x.astype(int) - y.astype(int)).mean() for x, y in zip(fa, da)]))

        print('\n| what | images/s (best round) | vs predict_batch on as many threads | notes |\n|---|---|---|---|')
        for r in rows: print('| ' + ' | '.join(r) + ' |')
        print(f"\n{ifacts['files']:,} Fashion-MNIST files ({ifacts['items']:,} images, {ifacts['duplicates']} exact duplicates, {ifacts['skipped']} skipped); "
              f"the same Dataset every time: {ifacts['same']}; the same thumbnails: {ifacts['same_thumbs']}; a local cluster of {a.workers} started in {ifacts['startup']:.1f} s")
        print('\n| what | files/s (best of 2) | vs one process | rounds |\n|---|---|---|---|')
        for r in irows: print('| ' + ' | '.join(r) + ' |')
        print(f"\n{pfacts['files']:,} photo-sized JPEGs (2000x1500; {pfacts['items']:,} images, {pfacts['duplicates']} exact duplicates); the same Dataset every time: {pfacts['same']}; the same thumbnails: {pfacts['same_thumbs']}")
        print('\n| what | files/s (best of 2) | vs one process | rounds |\n|---|---|---|---|')
        for r in prows: print('| ' + ' | '.join(r) + ' |')
        print_memory(mem)
        print(resume_line)
        print(f"\nJPEG decoding, {a.photos} photos of 4000x3000 to the backbone's 224 px input, one thread: full {full_rate:.2f} images/s, "
              f"draft mode {draft_rate:.2f} images/s ({draft_rate / full_rate:.1f}x); mean pixel difference of the inputs {diff:.2f} of 255")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
