"""pigeon-jupyter (`pigeon.annotate`) driven by a scripted annotator in JupyterLab, timed in the browser.

pigeon 0.1.0 works as is with ipywidgets 8 / JupyterLab 4.6 for the two-button (<= 5 options) case used here:
its HTML counter, Buttons, HBox and Output widget all render, and `with out: clear_output(wait=True); display(...)`
inside a button callback updates the Output widget. The one thing that no longer shows is its final
print('Annotation done.') from the callback: outside an Output context, callback output goes to Lab's log console.

Usage: .venv/bin/python bench/_pigeon.py [--n 20]     (demo photos from the Tux Paint cache)
"""
import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from browser import browser, kernel_execute, lab, open_notebook, screenshot, write_notebook  # noqa: E402

NOTEBOOK = '''
import html, json
from IPython.display import HTML, Image, display
from pigeon import annotate
EXAMPLES = json.loads({examples!r})

def show(path):
    # The path as text, so the driver can read which example is on screen.
    display(HTML(f'<div class="pigeon-example">{{html.escape(path)}}</div>'), Image(filename=path))

annotations = annotate(EXAMPLES, options={options!r}, display_fn=show)
'''

# Installed before the first click. A capture-phase listener stamps the click before any widget code runs; the
# observer stamps the first frame in which a *different* example's name is in the DOM and its image is decoded.
# decode() + one requestAnimationFrame = the frame that paints it.
TIMER = '''() => {
  const t = window.pigeonTimer = { latencies: [], shown: null, t0: null };
  const current = () => document.querySelector('.pigeon-example');
  const imageOf = name => name?.closest('.jp-OutputArea')?.querySelector('img');
  t.shown = current()?.textContent ?? null; t.img = imageOf(current());
  document.addEventListener('click', e => { if (e.target.closest('button')) t.t0 = performance.now(); }, true);
  new MutationObserver(() => {
    const name = current(), img = imageOf(name);
    // a new name with a new <img> element: never the previous example's picture still in place
    if (!img || name.textContent === t.shown || img === t.img) return;
    t.img = img;
    img.decode().catch(() => {}).then(() => requestAnimationFrame(() => {
      if (t.t0 !== null) t.latencies.push(performance.now() - t.t0);
      t.t0 = null; t.shown = name.textContent;
    }));
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}'''


def label_with_pigeon(page, lab, examples, truth, options, workdir, think: float = 0.0) -> dict:
    """Label `examples` (image paths) with pigeon in the Lab behind `page`, clicking truth[path] for each one on screen.

    `think` seconds pass before each click (an annotator looking). workdir must lie under lab.root. Returns labels (pigeon's count), clicks, latencies_ms (click -> next example
    painted; one fewer than clicks, the last click has no next example), annotations (what pigeon recorded, read
    back from the kernel) and matches_truth.
    """
    if len(options) > 5: raise ValueError('pigeon shows a dropdown beyond 5 options; this driver clicks buttons')
    examples = [str(p) for p in examples]
    workdir = Path(workdir).resolve(); rel = (workdir/'pigeon.ipynb').relative_to(lab.root)
    write_notebook(workdir/'pigeon.ipynb', [NOTEBOOK.format(examples=json.dumps(examples), options=list(options))])
    open_notebook(page, lab, rel)
    page.wait_for_selector('.pigeon-example')
    screenshot(page, workdir/'pigeon-first.png')
    page.evaluate(TIMER)
    clicks = 0
    for i in range(len(examples)):
        shown = page.evaluate('() => window.pigeonTimer.shown')
        time.sleep(think)
        page.get_by_role('button', name=str(truth[shown]), exact=True).click(); clicks += 1
        if i + 1 < len(examples):  # wait until the next example is painted, as a person would
            page.wait_for_function('n => window.pigeonTimer.latencies.length === n', arg=i + 1)
    # pigeon's counter says when the last label is in; then the annotations come back through the kernel.
    page.get_by_text(f'{len(examples)} examples annotated').wait_for()
    out = workdir/'annotations.json'
    kernel_execute(page, rel, f'import json; json.dump([[p, l] for p, l in annotations], open({str(out)!r}, "w"))')
    annotations = json.loads(out.read_text())
    screenshot(page, workdir/'pigeon-done.png')
    return dict(labels=len(annotations), clicks=clicks, latencies_ms=page.evaluate('() => window.pigeonTimer.latencies'),
                annotations=annotations, matches_truth=sorted(annotations) == sorted([p, truth[p]] for p in examples))


def demo_examples(n, seed=0):
    "n demo photos (half food where there are enough), absolute paths, with their labels."
    import pandas as pd
    from hotdog.datasets import demo_dataset
    manifest = demo_dataset(); df = pd.read_csv(manifest)
    df['path'] = [str(manifest.parent/p) for p in df.path]
    rng = random.Random(seed); picked = []
    for label, g in df.groupby('label'): picked += rng.sample(list(g.path), min(len(g), n // 2))
    rng.shuffle(picked)
    return picked[:n], dict(zip(df.path, df.label))


def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, round(q/100*(len(xs) - 1)))]


if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=20); args = ap.parse_args()
    examples, truth = demo_examples(args.n)
    root = Path(__file__).resolve().parent/'out'/'pigeon'  # bench/out is git-ignored
    shutil.rmtree(root, ignore_errors=True); root.mkdir(parents=True)
    t = time.perf_counter()
    with lab(root) as jl, browser() as page:
        r = label_with_pigeon(page, jl, examples, truth, ['food', 'not_food'], root/'run')
        if page.errors: print('page errors:', page.errors)
    lat = r['latencies_ms']
    print(f"{r['labels']} labels, {r['clicks']} clicks, matches truth: {r['matches_truth']}, {time.perf_counter() - t:.1f}s in all")
    print(f"click -> next image painted: p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, max {max(lat):.0f} ms (n={len(lat)})")
    print('notebook, annotations and screenshots in', root/'run')
    assert r['matches_truth']
