"""A fault corpus (issue 16): kinds of bad input through `hotdog ingest`, `hotdog predict`, `embed`, `predict_batch`,
`add_dataset` and the queue, each under a timeout; no traceback, no hang, every file decoded or skipped with a reason,
nothing catalogued lost. Run with `-s` to see the table; the last test prints it.
Also: a full disk (a small tmpfs) and a store made read-only mid-session (a read-only remount), where the tests run as
root and can mount; and an export killed half-way."""
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hotdog.core import HotdogError, get_config
from hotdog.data import BadImage, Item, display_path, ingest
from hotdog.fixtures import make_bad_files, synthetic_dataset
from hotdog.head import fit_head, predict_batch
from hotdog.model import EmbeddingCache, embed
from hotdog.store import Store, add_dataset, event_count, export, items, label_many

HOTDOG = str(Path(sys.executable).parent/'hotdog')
OUTCOMES = ('ok', 'handled', 'crashed', 'hung', 'lost')  # decoded; refused with a one-line reason; traceback; timeout; catalogued but gone
TALLY = {}  # consumer -> Counter of outcomes


def note(consumer: str, outcome: str):
    TALLY.setdefault(consumer, Counter())[outcome] += 1


class Hung(Exception): pass


@contextmanager
def deadline(seconds: int):
    "Raise `Hung` in the main thread if the block runs longer than `seconds`."
    def fire(*_): raise Hung()
    old = signal.signal(signal.SIGALRM, fire); signal.alarm(seconds)
    try: yield
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)


def attempt(consumer: str, fn, seconds: int = 60):
    "Run `fn`, classify what happened (ok, handled with a one-line message, crashed, hung) and tally it; returns (outcome, value)."
    try:
        with deadline(seconds): v = fn()
        note(consumer, 'ok'); return 'ok', v
    except Hung: note(consumer, 'hung'); return 'hung', None
    except HotdogError as e:
        outcome = 'handled' if str(e) and '\n' not in str(e) else 'crashed'
        note(consumer, outcome); return outcome, str(e)
    except Exception as e:
        note(consumer, 'crashed'); return 'crashed', f'{type(e).__name__}: {e}'


def _png(im) -> bytes:
    b = io.BytesIO(); im.save(b, 'PNG'); return b.getvalue()


def build_corpus(root: Path) -> dict:
    "A class tree of good images and at least 25 kinds of bad input; returns {kind: path}."
    good = synthetic_dataset(root/'good', 3)
    shutil.copytree(good/'hotdog', root/'tree'/'hotdog'); shutil.copytree(good/'not_hotdog', root/'tree'/'not_hotdog')
    c = root/'tree'/'hotdog'; bad = make_bad_files(root/'bad_files')
    kinds = {}
    for name in bad: shutil.copy(root/'bad_files'/name, c/name); kinds[f'fixture {name}'] = c/name
    def put(kind, name, data=None):
        p = c/name
        if data is not None: p.write_bytes(data)
        kinds[kind] = p; return p
    put('16-bit 9400x9400 PNG (decode memory)', 'big16.png', _png(Image.new('I;16', (9400, 9400))))
    os.mkfifo(c/'fifo.jpg'); put('FIFO named .jpg', 'fifo.jpg')
    (c/'zero.jpg').symlink_to('/dev/zero'); put('symlink to /dev/zero', 'zero.jpg')
    (c/'urandom.png').symlink_to('/dev/urandom'); put('symlink to /dev/urandom', 'urandom.png')
    (c/'dangling.jpg').symlink_to(c/'gone.jpg'); put('dangling symlink', 'dangling.jpg')
    (c/'loop.jpg').symlink_to(c/'loop.jpg'); put('symlink loop', 'loop.jpg')
    (c/'passwd.jpg').symlink_to('/etc/passwd'); put('symlink to /etc/passwd', 'passwd.jpg')
    s = socket.socket(socket.AF_UNIX); s.bind(str(c/'sock.jpg')); s.close(); put('UNIX socket named .jpg', 'sock.jpg')
    name = os.fsdecode(bytes(c) + b'/caf\xe9.png'); shutil.copy(good/'not_hotdog'/'not_hotdog_0000.png', name)
    Image.open(name).rotate(90).save(name, 'PNG'); kinds['non-UTF-8 file name'] = Path(name)
    Image.new('RGB', (30, 20), 'green').save(c/'new\nline.png'); put('newline in a file name', 'new\nline.png')
    put('hidden file', '.hidden.jpg', (root/'bad_files'/'cmyk.jpg').read_bytes())
    put('HTML named .png', 'page.png', b'<html><body>not a picture</body></html>')
    put('ZIP named .jpg', 'archive.jpg', b'PK\x03\x04' + bytes(200))
    put('JPEG header, then garbage', 'soi.jpg', b'\xff\xd8\xff\xe0' + os.urandom(500))
    png = bytearray(_png(Image.new('RGB', (40, 40), 'red'))); png[60:70] = bytes(10); put('PNG with a damaged IDAT', 'crc.png', bytes(png))
    put('BMP header claiming 2^31 pixels', 'huge.bmp', b'BM' + (70).to_bytes(4, 'little') + bytes(4) + (54).to_bytes(4, 'little') + (40).to_bytes(4, 'little')
        + (60000).to_bytes(4, 'little') + (60000).to_bytes(4, 'little') + (1).to_bytes(2, 'little') + (24).to_bytes(2, 'little') + bytes(24) + bytes(16))
    with open(c/'sparse.jpg', 'wb') as f: f.truncate(300 * 2**20)  # 300 MB that take no disk
    put('300 MB file (byte cap)', 'sparse.jpg')
    put('not an image name', 'notes.txt', b'hello')
    (c/'folder.jpg').mkdir(); Image.new('RGB', (20, 20), 'blue').save(c/'folder.jpg'/'inside.png'); kinds['folder named .jpg'] = c/'folder.jpg'
    (c/'up').symlink_to(root/'tree'); kinds['symlink to a parent folder'] = c/'up'
    lk = c/'locked'; lk.mkdir(); Image.new('RGB', (20, 20), 'yellow').save(lk/'in_locked.png'); lk.chmod(0); kinds['unreadable folder'] = lk
    lf = put('unreadable file', 'locked.png', _png(Image.new('RGB', (20, 20), 'purple'))); lf.chmod(0)
    tif = io.BytesIO(); Image.new('F', (64, 64)).save(tif, 'TIFF'); put('float TIFF', 'float.tif', tif.getvalue())
    (root/'tree'/'README.txt').write_text('notes'); kinds['file outside a class folder'] = root/'tree'/'README.txt'
    return kinds


def every_entry(top: Path) -> set:
    "Every path under `top` (not following symlinks, not entering unreadable folders' contents: those are accounted for by the folder)."
    out = set()
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files: out.add(Path(dirpath)/n)
    return out


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp('faults')
    kinds = build_corpus(root)
    yield root, kinds
    for p in root.rglob('*'):
        if not p.is_symlink() and p.exists(): p.chmod(0o755)


def test_corpus_is_big_enough(corpus):
    assert len(corpus[1]) >= 25, len(corpus[1])


def test_cli_ingest(corpus):
    root, kinds = corpus
    t0 = time.monotonic()
    try: r = subprocess.run([HOTDOG, 'ingest', root/'tree'], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired: note('hotdog ingest', 'hung'); pytest.fail('hotdog ingest hung')
    assert 'Traceback' not in r.stderr and r.returncode == 0, r.stderr
    note('hotdog ingest', 'ok')
    for reason in ('not a regular file (a FIFO', 'a dangling symlink', 'a symlink loop', 'not a regular file (a character device)',
                   'not a regular file (a socket)', 'file too large', 'over the budget', 'a symlink to a folder (not followed)'):
        assert reason in r.stdout, (reason, r.stdout)
    assert time.monotonic() - t0 < 300


def test_ingest_accounts_for_every_file(corpus):
    root, kinds = corpus
    outcome, ds = attempt('ingest', lambda: ingest(root/'tree', progress=False))
    assert outcome == 'ok', ds
    accounted = {i.path for i in ds.items} | {p for p, _ in ds.duplicates} | {p for p, _ in ds.skipped}
    entries = every_entry(root/'tree')
    inside_skipped_folders = {p for p in entries for q, _ in ds.skipped if q in p.parents}
    unaccounted = entries - accounted - inside_skipped_folders - {p for p in entries if p.is_dir() and not p.is_symlink()}
    assert not unaccounted, sorted(map(display_path, unaccounted))
    assert all(r and '\n' not in r for _, r in ds.skipped)
    names = {i.path.name for i in ds.items}
    assert 'caf\udce9.png' in names and 'new\nline.png' in names
    for kind, p in kinds.items():  # one verdict per kind of bad input
        if p in {i.path for i in ds.items} or p in {q for q, _ in ds.duplicates}: note('ingest (per kind)', 'ok')
        elif p in {q for q, _ in ds.skipped} or any(q in p.parents for q, _ in ds.skipped): note('ingest (per kind)', 'handled')
        elif p.is_dir() and not p.is_symlink(): note('ingest (per kind)', 'ok')  # a plain folder: its files are judged one by one
        else: note('ingest (per kind)', 'lost'); pytest.fail(f'{kind}: {display_path(p)} neither decoded nor skipped')


def test_catalog_loses_nothing(corpus, tmp_path):
    root, kinds = corpus
    ds = ingest(root/'tree', progress=False)
    st = Store(tmp_path/'labels.sqlite')
    outcome, n = attempt('add_dataset', lambda: add_dataset(st, ds))
    assert outcome == 'ok' and n == len(ds.items), n
    cat = items(st)
    for it in ds.items:
        stored = cat.path[cat.hash == it.hash].iloc[0]
        if os.fsencode(stored) == os.fsencode(it.path) and Path(stored).is_file(): note('catalog round trip', 'ok')
        else: note('catalog round trip', 'lost'); pytest.fail(f'{display_path(it.path)} came back as {display_path(stored)}')
    skipped = st.rows('SELECT count(*) FROM skipped')[0][0]
    assert skipped == len({str(p) for p, _ in ds.skipped}), skipped
    label_many(st, [(i.hash, 'hotdog') for i in ds.items])
    out = export(st, tmp_path/'labels.csv')
    assert os.fsencode(str(kinds['non-UTF-8 file name'])) in out.read_bytes()


def test_embed_and_predict_every_file(corpus, tmp_path):
    "Every corpus path through `embed` (one batch, errors collected) and `predict_batch` (one at a time): an answer or a one-line reason."
    root, kinds = corpus
    paths = [p for p in kinds.values()] + sorted((root/'tree'/'not_hotdog').iterdir())[:2]
    cfg, cache = get_config(precision='fp32', device='cpu'), EmbeddingCache(tmp_path/'emb.sqlite')
    errs = {}
    outcome, X = attempt('embed (batch)', lambda: embed(paths, cfg, cache=cache, errors=errs), 300)
    assert outcome == 'ok', X
    assert all('\n' not in e for e in errs.values())
    assert np.abs(X[sorted(errs)]).sum() == 0 and (np.abs(X).sum(1) > 0).sum() == len(paths) - len(errs)
    head = fit_head(np.random.default_rng(0).normal(size=(8, 1280)).astype(np.float32), ['hotdog', 'not_hotdog'] * 4)
    for p in paths:
        outcome, v = attempt('predict_batch', lambda: predict_batch([p], head, cfg, cache=cache))
        assert outcome in ('ok', 'handled'), (display_path(p), v)
        assert (outcome == 'ok') == (paths.index(p) not in errs), (display_path(p), v)


def test_cli_predict_reports_each_failure(corpus):
    root, kinds = corpus
    files = [kinds[k] for k in ('FIFO named .jpg', 'symlink to /dev/zero', 'fixture truncated.jpg', 'non-UTF-8 file name', '300 MB file (byte cap)')]
    try: r = subprocess.run([HOTDOG, 'predict', *map(os.fsencode, files), '--device', 'cpu'], capture_output=True, timeout=300)
    except subprocess.TimeoutExpired: note('hotdog predict', 'hung'); pytest.fail('hotdog predict hung')
    err = r.stderr.decode('utf-8', 'replace')
    assert 'Traceback' not in err and r.returncode == 1, err
    assert 'hotdog: 4 of 5 images failed' in err and b'caf\\xe9.png: hotdog' in r.stdout, (err, r.stdout)
    note('hotdog predict', 'handled')


def _queue():
    from hotdog.queue import Queue
    return Queue


def test_queue_opens_or_says_why(corpus, tmp_path):
    "The queue as a consumer: on a store of the corpus it opens; on bad stores and classes it is one line."
    root, kinds = corpus
    Queue = _queue()
    st = Store(tmp_path/'q.sqlite'); add_dataset(st, ingest(root/'tree', progress=False))
    outcome, q = attempt('Queue', lambda: Queue(st, ['hotdog', 'not_hotdog'], background=False), 300)
    assert outcome == 'ok', q
    assert any('caf' in t['path'] for t in q.page) or q.remaining > 0
    zeroed = tmp_path/'zeroed.sqlite'; shutil.copy(st.path, zeroed); st.db.execute('PRAGMA wal_checkpoint(TRUNCATE)'); shutil.copy(st.path, zeroed)
    b = bytearray(zeroed.read_bytes()); b[4096 * 2:4096 * 4] = bytes(8192); zeroed.write_bytes(b)
    (tmp_path/'text.sqlite').write_text('not a database\n' * 100)
    (tmp_path/'folder.sqlite').mkdir()
    for store_path in (zeroed, tmp_path/'text.sqlite', tmp_path/'folder.sqlite', Path('/proc/nope/labels.sqlite')):
        outcome, msg = attempt('Queue', lambda: Queue(Store(store_path), ['hotdog', 'not_hotdog'], background=False))
        assert outcome == 'handled', (store_path, msg)
    for classes in (['hotdog'], ['a', 'a'], [], 'hotdog'):
        outcome, msg = attempt('Queue', lambda: Queue(st, classes, background=False))
        assert outcome == 'handled', (classes, msg)


def test_manifest_with_bad_rows(corpus, tmp_path):
    root, kinds = corpus
    rows = [str(kinds['fixture cmyk.jpg']), 'nul\0byte.png', '../../etc/passwd', str(kinds['FIFO named .jpg']), 'missing.png', str(kinds['symlink loop'])]
    pd.DataFrame({'path': rows, 'label': ['hotdog'] * len(rows)}).to_csv(root/'tree'/'hotdog'/'manifest.csv', index=False)
    outcome, ds = attempt('ingest (manifest)', lambda: ingest(root/'tree'/'hotdog'/'manifest.csv', progress=False))
    assert outcome == 'ok', ds
    assert len(ds.items) + len(ds.skipped) == len(rows), (ds.items, ds.skipped)
    (root/'tree'/'hotdog'/'manifest.csv').unlink()


def _can_mount() -> str | None:
    "None when this process can mount a tmpfs; else why not."
    if os.geteuid() != 0: return 'needs root to mount a small tmpfs'
    if not shutil.which('mount'): return 'no mount command'
    return None


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path)], capture_output=True, text=True)
    if r.returncode: pytest.skip(f'cannot mount a tmpfs here: {r.stderr.strip()}')
    try: yield path
    finally: subprocess.run(['umount', '-l', str(path)], capture_output=True)


@pytest.mark.skipif(_can_mount() is not None, reason=_can_mount() or '')
def test_full_disk_says_so_and_loses_nothing(tmp_path):
    with tmpfs(tmp_path/'small', '1m') as d:
        st = Store(d/'labels.sqlite'); add_dataset(st, ingest(synthetic_dataset(tmp_path/'syn', 3), progress=False))
        hs = list(items(st).hash); acked = 0
        with open(d/'filler', 'wb') as f:  # fill the disk
            try:
                while True: f.write(b'\0' * 65536); f.flush()
            except OSError: pass
        failed = None
        for k in range(2000):
            try: label_many(st, [(hs[k % len(hs)], 'hotdog')] * 20); acked += 20
            except HotdogError as e: failed = str(e); break
        assert failed is not None, 'the disk never filled'
        assert 'database or disk is full' in failed and 'cannot rollback' not in failed and '\n' not in failed, failed
        (d/'filler').unlink()
        assert event_count(Store(d/'labels.sqlite')) == acked
        note('full disk', 'handled')


@pytest.mark.skipif(_can_mount() is not None, reason=_can_mount() or '')
def test_read_only_store_says_so(tmp_path):
    "A store on a read-only file system (a read-only bind mount; Linux refuses to remount a file system read-only under a writer, so mid-session is shown with `query_only` in 02_store)."
    with tmpfs(tmp_path/'rw', '4m') as d:
        st = Store(d/'labels.sqlite'); add_dataset(st, ingest(synthetic_dataset(tmp_path/'syn', 3), progress=False))
        label_many(st, [(items(st).hash[0], 'hotdog')] * 5); st.close()
        ro = tmp_path/'ro'; ro.mkdir()
        if subprocess.run(['mount', '--bind', str(d), str(ro)], capture_output=True).returncode: pytest.skip('cannot bind-mount')
        try:
            r = subprocess.run(['mount', '-o', 'remount,bind,ro', str(ro)], capture_output=True, text=True)
            if r.returncode: pytest.skip(f'cannot remount read-only: {r.stderr.strip()}')
            with pytest.raises(HotdogError) as e: Store(ro/'labels.sqlite')
            msg = str(e.value)
            assert 'cannot rollback' not in msg and 'mounted read-only' in msg and '\n' not in msg, msg
        finally: subprocess.run(['umount', '-l', str(ro)], capture_output=True)
        assert event_count(Store(d/'labels.sqlite')) == 5
        note('read-only store', 'handled')


def test_killed_export_leaves_the_old_file(tmp_path):
    st = Store(tmp_path/'big.sqlite'); add_dataset(st, ingest(synthetic_dataset(tmp_path/'syn', 3), progress=False))
    hs = list(items(st).hash)
    for _ in range(6): label_many(st, [(hs[k % len(hs)], 'hotdog') for k in range(50_000)])
    out = tmp_path/'history.csv'; export(st, out, 'history'); good = out.read_bytes(); st.close()
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\nfrom hotdog.store import Store, export\nexport(Store({str(tmp_path/'big.sqlite')!r}), {str(out)!r}, 'history')"
    p = subprocess.Popen([sys.executable, '-c', code])
    t0 = time.monotonic()
    while not list(tmp_path.glob('.history.csv.*.part')) and p.poll() is None and time.monotonic() - t0 < 120: time.sleep(0.005)
    parts = list(tmp_path.glob('.history.csv.*.part'))
    p.kill(); p.wait()
    if not parts: pytest.skip('the export finished before it could be killed')
    assert out.read_bytes() == good  # the old, complete file; the half-written one never took its name
    note('killed export', 'handled')


def test_zz_table(capsys):
    "The figures for the issue: tried / handled with a clear message / crashed / hung / lost, per consumer."
    rows = [(c, sum(t.values()), t['ok'], t['handled'], t['crashed'], t['hung'], t['lost']) for c, t in TALLY.items()]
    total = [sum(r[i] for r in rows) for i in range(1, 7)]
    with capsys.disabled():
        print('\n| consumer | tried | decoded/ok | handled with a clear message | crashed | hung | lost |\n|---|---|---|---|---|---|---|')
        for r in rows + [('all', *total)]: print('| ' + ' | '.join(map(str, r)) + ' |')
    assert total[3] == total[4] == total[5] == 0, rows
