"The `hotdog` command as a user runs it: a real process, exit codes, and no tracebacks for expected failures."
import subprocess
import sys
from pathlib import Path

import pandas as pd

from hotdog.fixtures import make_bad_files, synthetic_dataset

HOTDOG = str(Path(sys.executable).parent/'hotdog')


def hotdog(*args):
    r = subprocess.run([HOTDOG, *map(str, args)], capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def test_ingest_counts_labels_and_skip_reasons(tmp_path):
    root = synthetic_dataset(tmp_path/'syn', 3, classes=('hotdog', 'bun', 'plate'))
    make_bad_files(root/'plate')
    code, out, err = hotdog('ingest', root)
    assert code == 0, err
    assert 'classes' in out and 'skipped' in out
    for label in ('hotdog', 'bun', 'plate'): assert label in out
    for reason in ('empty file', 'too small', 'not an image', 'truncated', 'decompression-bomb'): assert reason in out
    assert 'Traceback' not in err


def test_bad_sources_are_one_line_errors(tmp_path):
    (tmp_path/'empty').mkdir()
    make_bad_files(tmp_path/'junk')
    only_bad = tmp_path/'only_bad'; only_bad.mkdir()
    for n in ('empty.jpg', 'text.jpg', 'truncated.jpg'): (only_bad/n).write_bytes((tmp_path/'junk'/n).read_bytes())
    pd.DataFrame({'file': ['a.png']}).to_csv(tmp_path/'nocol.csv', index=False)
    cases = {tmp_path/'missing': 'no such file or folder', tmp_path/'empty': 'folder is empty',
             only_bad: 'no usable images', tmp_path/'nocol.csv': "no 'path' column"}
    for path, msg in cases.items():
        code, out, err = hotdog('ingest', path)
        assert code == 1, (path, out, err)
        lines = err.strip().splitlines()
        assert lines[-1].startswith('hotdog: error: ') and msg in lines[-1] and str(path) in lines[-1], err
        assert 'Traceback' not in err


def test_predict_prints_scores_and_survives_bad_files(tmp_path):
    root = synthetic_dataset(tmp_path/'syn', 1)
    make_bad_files(tmp_path/'junk')
    img = next((root/'hotdog').glob('*.png'))
    code, out, err = hotdog('predict', img, tmp_path/'junk'/'truncated.jpg')
    assert code == 1 and 'hotdog ' in out and 'food ' in out and len(out.strip().splitlines()) == 6, out  # the good one printed, exit 1 for the bad one
    assert 'truncated.jpg: corrupt or truncated image' in err and 'hotdog: 1 of 2 images failed' in err and 'Traceback' not in err
    code, out, err = hotdog('predict', tmp_path/'junk'/'empty.jpg')
    assert code == 1 and 'empty file' in err


def readme_training_lines() -> str:
    "The README's training example, up to the `fit` call, as written there."
    text = (Path(__file__).resolve().parents[1]/'README.md').read_text()
    block = text.split('### Training and evaluation', 1)[1].split('```python', 1)[1].split('```', 1)[0]
    lines = block.strip().splitlines()
    return '\n'.join(lines[:next(i for i, l in enumerate(lines) if l.startswith('model = fit(')) + 1])


def test_readme_training_then_predict_with_that_checkpoint(tmp_path):
    "A user follows the README: labels in data/labels.sqlite, the training example, then `hotdog predict IMG --head` on its checkpoint."
    from hotdog.data import ingest
    from hotdog.store import Store, import_labels
    root = synthetic_dataset(tmp_path/'photos', 8)
    st = Store(tmp_path/'data'/'labels.sqlite', annotator='ana'); import_labels(st, ingest(root, progress=False)); st.close()
    code = readme_training_lines()
    assert "checkpoint='data/head.pt'" in code, code
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    img = root/'hotdog'/'hotdog_0000.png'
    code, out, err = hotdog('predict', img, '--head', tmp_path/'data'/'head.pt')
    assert code == 0, err
    assert 'head: hotdog' in out and 'not_hotdog=' in out, out


def test_score_runs_resumes_and_refuses_in_one_line(tmp_path):
    root = synthetic_dataset(tmp_path/'syn', 3)
    make_bad_files(root/'hotdog')
    code, out, err = hotdog('score', root, '--out', tmp_path/'run', '--workers', 1, '--partition', 4, '--quiet')
    assert code == 0 and 'Traceback' not in err, err
    assert out.startswith(f"{tmp_path/'run'}: 18 files in 5 shards: 13 scored, 5 skipped") and 'empty file (0 bytes)' in out, out
    assert len(pd.read_parquet(tmp_path/'run'/'part-00000.parquet')) == 4
    code, out, err = hotdog('score', root, '--out', tmp_path/'run', '--workers', 1, '--partition', 8, '--quiet')  # another partition: another run
    assert code == 1 and out == '' and len(err.strip().splitlines()) == 1 and 'config.partition' in err, err
    code, out, err = hotdog('score', root, '--out', tmp_path/'run2', '--cluster', 'tcp://127.0.0.1:1')
    assert code == 1 and err.startswith('hotdog: error: no Dask scheduler answers') and len(err.strip().splitlines()) == 1, err
