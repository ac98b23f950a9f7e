"The browser harness itself: Lab starts, a notebook runs with the hotdog kernel, widgets render, and keys reach Python."
import os
import time
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

pytest.importorskip('playwright')
from browser import CHROMIUM, browser, cells, lab, open_notebook, screenshot, write_notebook  # noqa: E402

OUT = Path(__file__).parent/'out'

# A focusable div that owns its keys: preventDefault + stopPropagation keep JupyterLab's command-mode
# shortcuts (b = insert cell below, d d = delete, m = markdown ...) from ever seeing them.
KEYPAD = '''
import json, pathlib, anywidget, ipywidgets
KEYLOG = pathlib.Path(%r)

class Keypad(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const pad = document.createElement('div');
      pad.className = 'keypad'; pad.tabIndex = 0; pad.textContent = 'click, then type';
      pad.style.cssText = 'padding:2em;border:2px solid #c60;width:20em;font:16px sans-serif';
      pad.addEventListener('keydown', (e) => {
        e.preventDefault(); e.stopPropagation();
        model.send({ key: e.key }); pad.textContent = 'last key: ' + e.key;
      });
      el.appendChild(pad);
    }
    export default { render };
    """

def log_key(widget, content, buffers):
    with KEYLOG.open('a') as f: f.write(content['key'] + '\\n')

pad = Keypad(); pad.on_msg(log_key)
display(ipywidgets.Button(description='hello hotdog'), pad)
'''


pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason='no chromium: run `make browser`')


@pytest.fixture(scope='module')
def jl_page(tmp_path_factory):
    "One Lab server and browser page for the module: starting them is most of the time."
    root = tmp_path_factory.mktemp('lab')
    with lab(root) as jl, browser() as page: yield jl, page


def test_widgets_render_and_keys_reach_python(jl_page):
    jl, page = jl_page
    keylog = jl.root/'keys.txt'
    write_notebook(jl.root/'harness.ipynb', ['print("kernel up")', KEYPAD % str(keylog)])
    keys = ['b', 'a', 'd', 'd', 'x', 'm', 'Enter']
    open_notebook(page, jl, 'harness.ipynb')
    before = cells(page, 'harness.ipynb')
    page.locator('.keypad').click()
    for k in keys: page.keyboard.press(k)
    page.wait_for_function("n => document.querySelector('.keypad').textContent === 'last key: ' + n", arg=keys[-1])
    deadline = time.monotonic() + 10  # comm messages to the kernel are asynchronous
    while time.monotonic() < deadline and len(keylog.read_text().split() if keylog.exists() else []) < len(keys):
        time.sleep(0.1)
    assert page.get_by_role('button', name='hello hotdog').is_visible()
    screenshot(page, OUT/'harness.png')
    assert keylog.read_text().split() == keys
    assert cells(page, 'harness.ipynb') == before == ['code', 'code']  # no cell inserted, deleted or turned to markdown
    assert page.errors == []


def test_unknown_kernelspec_gets_the_requested_kernel(jl_page):
    "Lab asks which kernel to use when the notebook's kernelspec is unknown; open_notebook answers with the one asked for."
    jl, page = jl_page
    write_notebook(jl.root/'other.ipynb', ['import sys; print(sys.executable)'], kernel='no-such-kernel')
    open_notebook(page, jl, 'other.ipynb', kernel='hotdog')
    assert page.evaluate("() => jupyterapp.shell.currentWidget.sessionContext.session.kernel.name") == 'hotdog'
    python = KernelSpecManager().get_kernel_spec('hotdog').argv[0]
    assert page.locator('.jp-OutputArea-output').inner_text().strip() == python


def test_server_extension_loads(tmp_path):
    "hotdog.server is loaded by `--ServerApp.jpserver_extensions` and routes kernel websockets to its handler."
    with lab(tmp_path) as jl:
        log = jl.log.read_text()
    assert 'hotdog.server: kernel websockets send without delay' in log, log[-2000:]


def test_install_enables_server_extension(tmp_path):
    "A regular install puts setup.py's data file in etc/jupyter/jupyter_server_config.d, which enables hotdog.server for a plain `jupyter lab`."
    import shutil, subprocess, sys, zipfile
    from jupyter_server.extension.config import ExtensionConfigManager
    root, src = Path(__file__).resolve().parents[1], tmp_path/'src'   # a copy: the build leaves build/ and *.egg-info behind
    src.mkdir()
    for f in ('setup.py', 'settings.ini', 'hotdog', 'jupyter-config'):
        (shutil.copytree if (root/f).is_dir() else shutil.copy)(root/f, src/f)
    # a wheel, not `pip install --prefix`: that would first uninstall this environment's own (editable) hotdog
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w', str(tmp_path/'w'), str(src)],
                   check=True, cwd=tmp_path)
    wheel = zipfile.ZipFile(next((tmp_path/'w').glob('hotdog-*.whl')))
    data = [n for n in wheel.namelist() if n.endswith('/data/etc/jupyter/jupyter_server_config.d/hotdog.json')]
    assert len(data) == 1, wheel.namelist()  # what an install puts under <prefix>/etc/jupyter/jupyter_server_config.d
    conf = tmp_path/'p'/'etc'/'jupyter'/'jupyter_server_config.d'; conf.mkdir(parents=True)
    (conf/'hotdog.json').write_bytes(wheel.read(data[0]))
    installed = ExtensionConfigManager(read_config_path=[str(tmp_path/'p'/'etc'/'jupyter')])
    assert installed.get_jpserver_extensions() == {'hotdog.server': True}
    assert ExtensionConfigManager(read_config_path=[str(tmp_path)]).get_jpserver_extensions() == {}  # nothing without it
