"""Embedding throughput of `embed`/`predict_batch` against a naive one-image-at-a-time loop, and against the FLOP limit.

Everything is measured in this run, on this machine: the figures are ratios, not wall-clock thresholds.
Usage: .venv/bin/python bench/embed.py [--n 256] [--batch-size 32]   (uses the demo photos; synthetic ones if they cannot be fetched)
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from hotdog.core import get_config, pick_precision
from hotdog.data import ingest, load_image
from hotdog.datasets import demo_dataset
from hotdog.fixtures import synthetic_dataset
from hotdog.model import CPU_FORWARD_BATCH, _forward, _loader_threads, load_backbone, predict_batch, prepare, to_tensor


def images(n):
    "Up to n demo photos (real PNG cut-outs); synthetic ones where the demo data cannot be fetched."
    try: items = ingest(demo_dataset(), progress=False).items
    except Exception as e:
        print(f'(demo data not available: {e}; using synthetic images)')
        items = ingest(synthetic_dataset(Path(tempfile.mkdtemp()), n // 2 + 1), progress=False).items
    return (items * (n // len(items) + 1))[:n]


def timed(fn, repeat=1):
    "Best wall time of `repeat` runs of fn()."
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
    return best


def naive(items):
    "What one writes first: decode, resize, one forward pass per image."
    m = load_backbone('cpu')
    with torch.no_grad():
        for it in items:
            x = to_tensor(np.array(prepare(load_image(it.path)))[None])
            m.extract_features(x).mean((2, 3))


def matmul_peak(n=1024, reps=5):
    "fp32 GFLOP/s of a square torch matmul: what the cores can do at best."
    a, b = torch.randn(n, n), torch.randn(n, n); a @ b
    return 2 * n**3 / timed(lambda: a @ b, reps) / 1e9


def flops_per_image():
    "FLOPs of one 224 px forward pass, counted by torch."
    m = load_backbone('cpu'); x = torch.zeros(1, 3, 224, 224)
    with FlopCounterMode(display=False) as fc, torch.no_grad(): m.extract_features(x)
    return fc.get_total_flops()


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=256); ap.add_argument('--batch-size', type=int, default=32)
    a = ap.parse_args()
    items = images(a.n); cfg = get_config(batch_size=a.batch_size, device='cpu')
    print(f'{len(items)} images, torch {torch.__version__}, {torch.get_num_threads()} threads')
    predict_batch(items[:cfg.batch_size], cfg=cfg, cache=False)  # warm up: weights, allocator, thread pools

    t_naive = timed(lambda: naive(items[:max(32, a.n // 4)])) * len(items) / max(32, a.n // 4)
    t_embed = timed(lambda: predict_batch(items, cfg=cfg, cache=False))
    arrays = np.stack([prepare(load_image(it.path)) for it in items[:cfg.batch_size]])
    t_model = timed(lambda: _forward(arrays, torch.device('cpu'), pick_precision(torch.device('cpu'))), 3) / len(arrays)
    t_decode = timed(lambda: [prepare(load_image(it.path)) for it in items[:64]]) / 64
    gflop = flops_per_image() / 1e9; peak = matmul_peak()

    ips_naive, ips = len(items) / t_naive, len(items) / t_embed
    limit = peak / gflop
    print(f'naive loop (batch 1, decode inline): {ips_naive:7.1f} images/s')
    cpu = torch.device('cpu')
    print(f'predict_batch ({pick_precision(cpu)}, forward batches of {CPU_FORWARD_BATCH}, {_loader_threads(cpu)} decode threads): {ips:7.1f} images/s')
    print(f'  model alone: {1/t_model:7.1f} images/s;  decode+resize alone (1 thread): {1/t_decode:7.1f} images/s')
    print(f'  time per image: model {1000*t_model:.1f} ms + decode {1000*t_decode:.1f} ms = {1000*(t_model+t_decode):.1f} ms; measured {1000/ips:.1f} ms')
    print(f'FLOPs per image (torch count): {gflop:.3f} GFLOP; matmul peak: {peak:.1f} GFLOP/s -> FLOP limit {limit:.1f} images/s')
    print(f'RATIO predict_batch / naive: {ips/ips_naive:.2f}x')
    print(f'RATIO predict_batch / FLOP limit: {ips/limit:.1%}  (model alone: {(1/t_model)/limit:.1%})')


if __name__ == '__main__':
    main()
