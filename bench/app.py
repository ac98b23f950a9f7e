"""The demo app's speed as a customer sees it: `hotdog app` (zero-shot prior) in headless Chromium, one demo photo
uploaded at a time, time from choosing the file to its result card drawn (prediction, top 5 and Grad-CAM heatmap),
against `hotdog predict` on the same photos in the same run (per photo: its time for all photos less its time for one,
so both exclude start-up). Also: seconds from `hotdog app` starting to the page being ready and to the first result,
and each kernel's memory.

Usage: nice .venv/bin/python bench/app.py [--n 20]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from browser import browser  # noqa: E402
from test_app import HOTDOG, app_server, demo_photos, done, kernels, open_app, upload  # noqa: E402


def predict_seconds(photos) -> float:
    "Seconds per photo of `hotdog predict` (all photos in one call, less a call with one)."
    def run(ps):
        t = time.monotonic(); subprocess.run([HOTDOG, 'predict', *map(str, ps)], check=True, capture_output=True); return time.monotonic() - t
    return (run(photos) - run(photos[:1])) / (len(photos) - 1)


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=20); a = ap.parse_args()
    photos = demo_photos(); photos = photos[::max(1, len(photos) // a.n)][:a.n]
    with app_server() as srv, browser() as page:
        open_app(page, srv.url); ready = time.monotonic() - srv.t0
        lat = []
        for p in photos:
            lat.append(upload(page, [p], done(page) + 1))
            page.wait_for_function("() => { const i = document.querySelector('.hd-result img.hd-heat'); return i && i.complete && i.naturalWidth > 0; }")
            if len(lat) == 1: first = time.monotonic() - srv.t0
        rss = [k.memory_info().rss / 2**20 for k in kernels(srv.proc)]
        assert page.failed == [], page.failed
    cli = predict_seconds(photos)
    p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
    print(f'hotdog app: page ready {ready:.1f} s after start, first result {first:.1f} s after start; kernels {", ".join(f"{r:.0f}" for r in rss)} MB')
    print(f'upload -> result drawn, {len(lat)} photos: p50 {p50:.2f} s, p95 {p95:.2f} s (first {lat[0]:.2f} s)')
    print(f'hotdog predict, same photos: {cli:.2f} s per photo; app p50 / predict = {p50 / cli:.1f}x')


if __name__ == '__main__':
    main()
