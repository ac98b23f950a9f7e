"Package metadata comes from settings.ini, the one place nbdev and pip both read."
from configparser import ConfigParser
from setuptools import setup, find_packages

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
c = cfg['DEFAULT']

setup(
    name=c['lib_name'],
    version=c['version'],
    description=c['description'],
    author=c['author'],
    license='Apache-2.0',
    python_requires='>=' + c['min_python'],
    packages=find_packages(include=['hotdog', 'hotdog.*']),
    include_package_data=True,
    package_data={'hotdog': ['*.txt', '*.json', 'static/*', 'static/voila/templates/hotdog/*']},
    # Enables the hotdog.server extension in every `jupyter lab` of this environment (see nbs/05a_server.ipynb).
    data_files=[('etc/jupyter/jupyter_server_config.d', ['jupyter-config/jupyter_server_config.d/hotdog.json'])],
    install_requires=c['requirements'].split(),
    extras_require={'dev': c['dev_requirements'].split()},
    entry_points={
        'console_scripts': c['console_scripts'].split(),
        'nbdev': [f"{c['lib_path']}={c['lib_path']}._modidx:d"],
    },
    zip_safe=False,
)
