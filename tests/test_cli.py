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
    assert code == 0 and 'hotdog ' in out and 'food ' in out and len(out.strip().splitlines()) == 6, out
    assert 'truncated.jpg: corrupt or truncated image' in err and 'Traceback' not in err
    code, out, err = hotdog('predict', tmp_path/'junk'/'empty.jpg')
    assert code == 1 and 'empty file' in err
