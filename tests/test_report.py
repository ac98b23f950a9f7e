"`hotdog report` as a user runs it: the dataset and labelling templates with tiny parameters, failing runs, sweeps and the index."
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from hotdog.data import ingest
from hotdog.fixtures import make_bad_files, synthetic_dataset
from hotdog.store import Store, add_dataset, label, label_many, undo

HOTDOG = str(Path(sys.executable).parent/'hotdog')
OUT = Path(__file__).parent/'out'


def hotdog(*args):
    r = subprocess.run([HOTDOG, *map(str, args)], capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def code_shown(page):
    "Whether any code cell of an nbconvert page shows its input."
    return any('jp-mod-noInput' not in c for c in re.findall(r'class="jp-Cell jp-CodeCell[^"]*"', page))


def one_run(root):
    runs = sorted((root/'runs').iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    "Three small classes, the bad files of make_bad_files, an exact copy and a resized one."
    root = synthetic_dataset(tmp_path_factory.mktemp('data')/'syn', 5, classes=('hotdog', 'bun', 'plate'))
    make_bad_files(root/'plate'); shutil.copy(root/'bun'/'bun_0000.png', root/'bun'/'copy.png')
    Image.open(root/'hotdog'/'hotdog_0001.png').resize((160, 160)).save(root/'hotdog'/'resized.png')
    return root


@pytest.fixture(scope='module')
def dataset_runs(tree, tmp_path_factory):
    "The dataset report run twice with the same parameters, into one root."
    root = tmp_path_factory.mktemp('reports')
    args = ('report', 'dataset', '-p', 'source', tree, '-p', 'per_class', '4', '-p', 'near_threshold', '0.97', '--root', root)
    results = [hotdog(*args) for _ in range(2)]
    return root, results


def test_dataset_report_is_html_without_code(dataset_runs):
    root, [(code, out, err), _] = dataset_runs
    assert code == 0, err
    html = Path(out.strip())
    assert html.name == 'report.html' and html.is_file()
    page = html.read_text()
    assert 'jp-CodeCell' in page and not code_shown(page)
    assert 'load_dataset' not in page and 'save_metrics' not in page and 'source: str' not in page  # no source text
    assert page.count('<img') >= 4 and page.count('class="dataframe"') >= 6  # balance, sizes, near pairs, montage; tables
    for text in ('Class balance', 'Skipped files', 'not an image', 'bun/copy.png', 'Near duplicates', 'hotdog/resized.png', 'Thumbnails'):
        assert text in page, text
    assert not re.findall(r'<script[^>]+src=', page)  # nothing fetched from a CDN
    run = html.parent
    assert sorted(p.name for p in run.iterdir()) == ['metrics.json', 'params.json', 'report.html', 'report.ipynb', 'run.json']
    params = json.loads((run/'params.json').read_text())
    assert params['per_class'] == 4 and params['near_threshold'] == 0.97 and params['seed'] == 0
    m = json.loads((run/'metrics.json').read_text())
    assert (m['images'], m['classes'], m['skipped'], m['exact_duplicates']) == (23, 3, 5, 1)
    assert m['device'] in ('cpu', 'cuda') and ('gpu' in m) and m['near_duplicate_pairs'] >= 1
    if m['device'] == 'cpu': assert m['gpu'] is None and 'Skipped on cpu' in page


def test_same_params_same_metrics(dataset_runs):
    root, [(c1, out1, _), (c2, out2, err2)] = dataset_runs
    assert c1 == c2 == 0, err2
    a, b = Path(out1.strip()).parent, Path(out2.strip()).parent
    assert a != b and b.name == a.name + '-2'
    assert (a/'metrics.json').read_bytes() == (b/'metrics.json').read_bytes()
    assert (a/'params.json').read_bytes() == (b/'params.json').read_bytes()
    index = (root/'index.html').read_text()
    assert f'href="runs/{a.name}/report.html"' in index and f'href="runs/{b.name}/report.html"' in index


def test_dataset_report_screenshot(dataset_runs):
    "Look at the page in a real browser (tests/out/report_dataset.png) and at the index (tests/out/report_index.png)."
    if not os.access('/usr/bin/chromium', os.X_OK): pytest.skip('chromium missing: run `make browser`')
    sys.path.insert(0, str(Path(__file__).parent))
    from browser import browser
    root, [(_, out, _), _] = dataset_runs
    OUT.mkdir(exist_ok=True)
    with browser(viewport=(1400, 900)) as page:
        page.goto(Path(out.strip()).resolve().as_uri())
        assert page.locator('.jp-RenderedImage img').count() >= 4
        assert page.locator('.jp-InputArea-editor').count() == 0
        page.screenshot(path=str(OUT/'report_dataset.png'), full_page=True)
        page.goto((root/'index.html').resolve().as_uri())
        first = lambda: page.locator('tbody tr td.num').first.inner_text()
        page.locator('th', has_text='seconds').first.click()
        assert page.locator('th[data-dir=asc]').count() == 1  # sorted by a click
        page.screenshot(path=str(OUT/'report_index.png'))
        assert first() and not page.errors, page.errors


@pytest.fixture(scope='module')
def store(tree, tmp_path_factory):
    "A tiny store: two annotators, suggestions, a grid page, an undo and a disagreement."
    path = tmp_path_factory.mktemp('store')/'labels.sqlite'
    ds = ingest(tree, progress=False); hs = [i.hash for i in ds.items[:8]]
    ana, ben = Store(path, annotator='ana'), Store(path, annotator='ben')
    add_dataset(ana, ds)
    for h in hs[:4]: label(ana, h, 'hotdog', suggestion='hotdog', source='accepted_suggestion', mode='single', keys=1)
    label_many(ana, [(h, 'bun') for h in hs[4:]], suggestion='bun', source='accepted_suggestion', mode='grid', action='p1', keys=1)
    e = label(ben, hs[0], 'bun', suggestion='hotdog', mode='single'); undo(ben, [e], mode='single')
    for h, lab in zip(hs[:6], ['hotdog', 'hotdog', 'bun', 'hotdog', 'bun', 'bun']): label(ben, h, lab, suggestion='hotdog', mode='single')
    ana.close(); ben.close()
    return path


def test_labelling_report(store, tmp_path):
    code, out, err = hotdog('report', 'labelling', '-p', 'store', store, '--root', tmp_path)
    assert code == 0, err
    page = Path(out.strip()).read_text()
    assert not code_shown(page) and 'open_store' not in page
    assert page.count('<img') >= 1 and page.count('class="dataframe"') >= 5
    for text in ('Labels over time', 'labels_per_min', 'kappa', 'ana', 'ben'): assert text in page, text
    m = json.loads((one_run(tmp_path)/'metrics.json').read_text())
    assert (m['annotators'], m['labelled_items'], m['undos']) == (2, 8, 1)
    assert m['kappa'] is not None and -1 <= m['kappa'] < 1  # ben disagrees on one item


def test_sweep_runs_each_value_and_index_lists_them(tmp_path):
    code, out, err = hotdog('report', 'labelling', '-p', 'seed', '0,1', '--name', 'sim', '--root', tmp_path)
    assert code == 0, err
    htmls = [Path(p) for p in out.split()]
    assert [p.parent.name.split('_', 1)[1] for p in htmls] == ['sim_seed0', 'sim_seed1'] and all(p.is_file() for p in htmls)
    m0, m1 = (json.loads((p.parent/'metrics.json').read_text()) for p in htmls)
    assert m0['events'] > 0 and m0 != m1  # another seed, another simulated log
    index = (tmp_path/'index.html').read_text()
    assert index.count('<tbody>') == 1 and 'sim_seed0' in index and 'sim_seed1' in index and '<th>seed</th>' in index


def test_bad_parameters_are_one_line_errors_and_run_nothing(tmp_path):
    code, out, err = hotdog('report', 'dataset', '-p', 'sourc', 'x', '--root', tmp_path)
    assert code == 1 and out == ''
    assert err.strip().splitlines() == [err.strip()] and err.startswith("hotdog: error: unknown parameter 'sourc' for report dataset; allowed: source: str | None")
    assert 'per_class: int = 8' in err
    assert not (tmp_path/'runs').exists()
    code, out, err = hotdog('report', 'dataset', '--kernel', 'nope', '--root', tmp_path)
    assert code == 1 and "no Jupyter kernel named 'nope'" in err and 'ipykernel install' in err and 'Traceback' not in err


def test_failing_run_keeps_the_notebook_and_prints_the_error(tmp_path):
    code, out, err = hotdog('report', 'dataset', '-p', 'source', tmp_path/'missing', '--root', tmp_path)
    assert code == 1 and out == '' and 'Traceback' not in err
    line = err.strip()
    assert '\n' not in line and line.startswith('hotdog: error: report dataset failed at cell [')
    assert f'HotdogError: no such file or folder: {tmp_path}/missing' in line
    run = one_run(tmp_path)
    assert json.loads((run/'run.json').read_text())['status'] == 'failed' and not (run/'metrics.json').exists()
    assert 'papermill-error-cell' in (run/'report.ipynb').read_text() and 'no such file or folder' in (run/'report.html').read_text()
    assert 'class="failed"' in (tmp_path/'index.html').read_text()


@pytest.mark.parametrize('name', ['dataset', 'labelling', 'experiment', 'active_learning', 'batch'])
def test_templates_are_clean_and_logic_free(name):
    "Committed without outputs, with a tagged parameters cell and this project's kernel; code cells only call into hotdog."
    nb = json.loads((Path(__file__).parents[1]/'reports'/'templates'/f'{name}.ipynb').read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    assert nb['metadata']['kernelspec']['name'] == 'hotdog'
    assert all(c['outputs'] == [] and c['execution_count'] is None for c in code)
    assert [c for c in code if 'parameters' in c['metadata'].get('tags', [])] == [code[0]]
    for c in code[1:]:
        src = ''.join(c['source'])
        assert not re.search(r'^\s*(def|class|for|while|if|with|try|lambda)\b', src, re.M), src
        assert not re.search(r'^\s*import\b|^\s*from (?!hotdog)', src, re.M), src


@pytest.fixture(scope='module')
def experiment_runs(tmp_path_factory):
    "The experiment report twice with the same tiny parameters (two classes, the hotdog prior, a budget spent by the default policy)."
    data = synthetic_dataset(tmp_path_factory.mktemp('exp')/'syn', 15)
    root = tmp_path_factory.mktemp('reports')
    args = ('report', 'experiment', '-p', 'source', data, '-p', 'prior', 'hotdog:hotdog', '-p', 'budget', '16', '-p', 'step', '8',
            '-p', 'epochs', '20', '-p', 'n_boot', '50', '--root', root)
    return root, [hotdog(*args) for _ in range(2)]


def test_experiment_report(experiment_runs):
    "Trains, evaluates with intervals against the zero-shot prior, shows every plot, and repeats exactly."
    root, [(c1, out1, err1), (c2, out2, err2)] = experiment_runs
    assert c1 == c2 == 0, err1 + err2
    a, b = Path(out1.strip()).parent, Path(out2.strip()).parent
    assert (a/'metrics.json').read_bytes() == (b/'metrics.json').read_bytes()  # same parameters and seed: same numbers
    m = json.loads((a/'metrics.json').read_text())
    assert (m['items'], m['labelled'], m['held_out']) == (30, 16, 9)
    for part in ('test', 'zero_shot'):
        assert m[part]['roc_auc_low'] <= m[part]['roc_auc'] <= m[part]['roc_auc_high']
    page = (a/'report.html').read_text()
    assert not code_shown(page) and 'run_experiment' not in page
    assert page.count('<img') >= 5  # confusion, ROC, PR, reliability, top losses
    for text in ('Headline numbers', 'zero-shot prior', 'Label-issue candidates', 'Near-duplicates'):
        assert text in page, text


def test_experiment_bad_parameter_names_itself(tmp_path):
    code, out, err = hotdog('report', 'experiment', '-p', 'budget', 'many', '--root', tmp_path)
    assert code == 1 and 'budget' in err and len(err.strip().splitlines()) == 1 and not (tmp_path/'runs').exists()


def test_active_learning_report(tmp_path):
    "Learning curves on a tiny synthetic set: the curves plot, the table compares with random, metrics.json lists each policy."
    data = synthetic_dataset(tmp_path/'syn', 15)
    code, out, err = hotdog('report', 'active_learning', '-p', 'source', data, '-p', 'policies', 'random10+entropy default prior10+entropy+prior30',
                            '-p', 'prior', 'hotdog:hotdog', '-p', 'budget', '20', '-p', 'step', '10', '-p', 'seeds', '2', '--root', tmp_path/'reports')
    assert code == 0, err
    run = Path(out.strip()).parent; page = (run/'report.html').read_text()
    assert not code_shown(page) and page.count('<img') >= 1 and '&lt;Figure' not in page
    m = json.loads((run/'metrics.json').read_text())
    assert [s['strategy'] for s in m['strategies']] == ['random', 'random10+entropy', 'default', 'prior10+entropy+prior30'] and m['target'] <= 0.95


def test_batch_report_on_a_scored_run(tree, tmp_path):
    "A run of `hotdog score` (bad files included) as evidence: counts, skip reasons, per source, galleries, throughput, model card."
    code, out, err = hotdog('score', tree, '--out', tmp_path/'run', '--workers', 1, '--partition', 8, '--quiet')
    assert code == 0, err
    code, out, err = hotdog('report', 'batch', '-p', 'run', tmp_path/'run', '-p', 'per_class', '3', '--root', tmp_path)
    assert code == 0, err
    run = Path(out.strip()).parent
    m = json.loads((run/'metrics.json').read_text())
    files = len(pd.read_parquet(tmp_path/'run'/'_listing.parquet'))
    assert m['files'] == files and m['scored'] + m['skipped'] == files and m['skipped'] >= 5 and 'empty file (0 bytes)' in m['skip_reasons']
    assert sum(m['predicted'].values()) == m['scored'] and m['images_per_s'] > 0
    page = (run/'report.html').read_text()
    for part in ('Skipped files', 'Per source', 'Borderline', 'Throughput', 'zero-shot', 'image/png'): assert part in page, part
    assert not code_shown(page)
