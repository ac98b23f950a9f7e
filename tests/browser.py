"""Drive JupyterLab from a real browser: a throwaway `jupyter lab` server, headless Debian Chromium through Playwright,
and a notebook opened, given its kernel, and run. Shared by the browser tests and the labelling benchmarks.

Not a test module (pytest only collects test_*.py). Usage:

    from browser import lab, browser, write_notebook, open_notebook, screenshot
    with lab(tmp) as jl, browser() as page:
        write_notebook(tmp/'t.ipynb', ['import ipywidgets as w; w.Button()'])
        open_notebook(page, jl, 't.ipynb')
        screenshot(page, 'tests/out/t.png')

Chromium comes from Debian (`make browser`), never from `playwright install`.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

CHROMIUM = '/usr/bin/chromium'
_venv_jupyter = Path(__file__).resolve().parents[1]/'.venv/bin/jupyter'
JUPYTER = _venv_jupyter if _venv_jupyter.exists() else Path(sys.executable).parent/'jupyter'

# User settings for a fresh profile: no "would you like news?" toast, no update check, so screenshots and
# clicks never meet a notification that nobody asked for.
_SETTINGS = {'@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False}}


def _free_port():
    # Bound-then-closed port: a tiny race with other processes, which is fine on a test machine.
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as r: return r.read()


@contextmanager
def lab(root_dir, port=None, timeout=90, nodelay=True):
    """A `jupyter lab` serving root_dir with a private profile; yields .url .token .root .log .extension and stops it (and its kernels) at exit.

    nodelay: True enables hotdog.server, False disables it (a stock server even where the package's config enables it),
    None leaves it to the environment's config, as a plain `jupyter lab` does. `.extension` says whether it loaded."""
    root, port, token = Path(root_dir).resolve(), port or _free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix='hotdog-lab-'))
    for name, value in _SETTINGS.items():
        f = home/'settings'/f'{name}.jupyterlab-settings'; f.parent.mkdir(parents=True); f.write_text(json.dumps(value))
    # Everything a server or kernel would write under ~ goes to the temporary profile instead; kernel specs
    # still come from the venv's share/jupyter, where `hotdog` is installed.
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(home/'config'), 'JUPYTERLAB_SETTINGS_DIR': str(home/'settings'),
           'JUPYTERLAB_WORKSPACES_DIR': str(home/'workspaces'), 'JUPYTER_RUNTIME_DIR': str(home/'runtime'),
           'IPYTHONDIR': str(home/'ipython')}
    cmd = [str(JUPYTER), 'lab', '--no-browser', '--ip', '127.0.0.1', '--port', str(port), '--allow-root',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--ServerApp.port_retries=0',
           '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate']
    if nodelay is not None: cmd.append(f"--ServerApp.jpserver_extensions={{'hotdog.server': {bool(nodelay)}}}")  # see nbs/05a_server
    log = home/'server.log'
    with open(log, 'wb') as out:
        # Own process group, so one signal reaches the server and anything it forked.
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    jl = SimpleNamespace(url=f'http://127.0.0.1:{port}', token=token, root=root, log=log, proc=proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None: raise RuntimeError(f'jupyter lab exited ({proc.returncode}):\n{log.read_text()[-3000:]}')
            try: _get(f'{jl.url}/api/status?token={token}'); break
            except OSError:
                if time.monotonic() > deadline: raise RuntimeError(f'jupyter lab did not answer in {timeout}s:\n{log.read_text()[-3000:]}')
                time.sleep(0.2)
        jl.extension = 'hotdog.server: kernel websockets' in log.read_text()  # logged once the server has loaded extensions
        yield jl
    finally:
        _stop(jl)
        shutil.rmtree(home, ignore_errors=True)


def _stop(jl):
    # The shutdown API stops kernels cleanly (they live in their own sessions, out of reach of killpg).
    try: urllib.request.urlopen(urllib.request.Request(f'{jl.url}/api/shutdown?token={jl.token}', method='POST'), timeout=5)
    except OSError: pass
    for sig, wait in ((None, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if sig is not None:
            try: os.killpg(jl.proc.pid, sig)
            except ProcessLookupError: return
        try: jl.proc.wait(wait); return
        except subprocess.TimeoutExpired: pass


@contextmanager
def browser(viewport=(1280, 800)):
    "A Playwright page (sync API) in headless Debian Chromium. Page errors are kept in page.errors for assertions."
    from playwright.sync_api import sync_playwright
    if not os.access(CHROMIUM, os.X_OK): raise RuntimeError(f'{CHROMIUM} missing: run `make browser`')
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        try:
            page = b.new_context(viewport={'width': viewport[0], 'height': viewport[1]}).new_page()
            page.errors = []
            page.on('pageerror', lambda e: page.errors.append(str(e)))
            yield page
        finally: b.close()


def write_notebook(path, cells, kernel='hotdog'):
    "Write a notebook of code cells (strings) whose kernelspec is `kernel`; returns the path."
    nb = {'cells': [{'cell_type': 'code', 'execution_count': None, 'id': f'c{i}', 'metadata': {}, 'outputs': [], 'source': src}
                    for i, src in enumerate(cells)],
          'metadata': {'kernelspec': {'name': kernel, 'display_name': kernel, 'language': 'python'}},
          'nbformat': 4, 'nbformat_minor': 5}
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True); path.write_text(json.dumps(nb, indent=1))
    return path


# The notebook panel that shows `path`, or null; every wait below goes through it.
_PANEL = """(path) => { const app = window.jupyterapp; if (!app) return null;
  const w = app.shell.currentWidget; return w && w.context && w.context.path === path && w.sessionContext ? w : null; }"""
_JS = {
    'panel_ready': f"(path) => !!({_PANEL})(path)",
    # A kernel-selection dialog (unknown kernelspec, or a kernel that is gone) or a connected idle kernel.
    'dialog_or_idle': f"""(path) => {{ if (document.querySelector('.jp-Dialog')) return 'dialog';
        const k = ({_PANEL})(path)?.sessionContext.session?.kernel;
        return k && k.connectionStatus === 'connected' && k.status === 'idle' ? 'idle' : false; }}""",
    'kernel_name': f"(path) => ({_PANEL})(path).sessionContext.session?.kernel?.name ?? null",
    'change_kernel': f"async ([path, name]) => {{ await ({_PANEL})(path).sessionContext.changeKernel({{name}}); }}",
    # The notebook alone, or beside the file browser as a fresh JupyterLab opens it.
    'layout': """(files) => { const s = window.jupyterapp.shell; s.collapseRight();
        if (files) { s.expandLeft(); s.activateById('filebrowser'); } else s.collapseLeft(); }""",
    # runAll resolves once every cell has finished; false means a cell raised (later cells are then skipped).
    'run_all': "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')",
    'execute': f"""async ([path, code]) => {{
        const k = ({_PANEL})(path).sessionContext.session.kernel;
        return (await k.requestExecute({{code, store_history: false}}).done).content; }}""",
    'cells': f"(path) => ({_PANEL})(path).content.widgets.map(c => c.model.type)",
}


def _wait_idle(page, relpath, timeout):
    page.wait_for_function(_JS['dialog_or_idle'], arg=relpath, timeout=timeout)
    if page.evaluate(_JS['dialog_or_idle'], relpath) == 'dialog':
        raise RuntimeError('a dialog is open: ' + page.inner_text('.jp-Dialog')[:300])


def open_notebook(page, lab, relpath, kernel='hotdog', run=True, timeout=60_000, file_browser=False):
    "Open relpath (relative to lab.root) in a clean workspace with kernel `kernel`, give it the full width (or share it with the file browser), run all cells."
    relpath = Path(relpath).as_posix()
    # ?reset starts from an empty workspace: nothing restored from a previous run, only this notebook open.
    page.goto(f'{lab.url}/lab/tree/{quote(relpath)}?reset&token={lab.token}')
    page.wait_for_function(_JS['panel_ready'], arg=relpath, timeout=timeout)
    page.wait_for_function(_JS['dialog_or_idle'], arg=relpath, timeout=timeout)
    if page.evaluate(_JS['dialog_or_idle'], relpath) == 'dialog':
        # Lab asks when the notebook's kernelspec is unknown to it: decline, then pick the kernel by name below.
        page.keyboard.press('Escape')
        page.wait_for_selector('.jp-Dialog', state='detached', timeout=timeout)
    if page.evaluate(_JS['kernel_name'], relpath) != kernel:
        page.evaluate(_JS['change_kernel'], [relpath, kernel])
    _wait_idle(page, relpath, timeout)
    set_layout(page, file_browser)
    if run:
        ok = page.evaluate(_JS['run_all'])
        if not ok:
            err = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
            raise RuntimeError(f'{relpath}: a cell raised:\n' + (err.last.inner_text()[-2000:] if err.count() else '(no traceback shown)'))
        _wait_idle(page, relpath, timeout)
    return page


def set_layout(page, file_browser=False):
    "The notebook alone in the main area, or beside the file browser (as a fresh JupyterLab opens it); waits for the layout."
    page.evaluate(_JS['layout'], file_browser)
    page.wait_for_function("(files) => ((document.querySelector('#jp-left-stack') || {}).offsetWidth > 0) === files", arg=file_browser)
    page.wait_for_timeout(300)  # the panels' resize animation


def cells(page, relpath):
    "The notebook's cell types in order, e.g. ['code', 'code'] (to check that key presses did not edit it)."
    return page.evaluate(_JS['cells'], Path(relpath).as_posix())


def kernel_execute(page, relpath, code):
    "Run code in the notebook's kernel, outside any cell (queued behind pending widget callbacks); raises if it fails."
    reply = page.evaluate(_JS['execute'], [Path(relpath).as_posix(), code])
    if reply['status'] != 'ok': raise RuntimeError(f"kernel: {reply.get('ename')}: {reply.get('evalue')}")
    return reply


def screenshot(page, path):
    "PNG of the viewport (Lab scrolls inside its panels, so a full-page shot shows nothing more)."
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path
