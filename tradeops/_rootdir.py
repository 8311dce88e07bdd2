"""The rootdir pytest would have chosen had it known our options: `--ops-config PATH`.

pytest decides the rootdir (and so the config file, its addopts and testpaths) from the
command line's path-like arguments *before* it loads installed plugins. An option it does
not know yet, such as `--ops-config /etc/tradeops/ops.toml`, leaves its value looking like
a path: `cd /opt/tradeops && pytest -m preflight --ops-config /etc/tradeops/ops.toml`
roots the run at /etc/tradeops, with no config file, no markers and no testpaths.

Once the plugins are loaded, the first hook that can still change the outcome is
`pytest_load_initial_conftests`: here the arguments are parsed again with every option
known and the setup decided again; if pytest was misled, the rootdir, config file and
addopts become the ones it would have chosen. This touches pytest's private attributes
(`_rootpath`, `_inipath`, `_inicfg`), checked by the README-commands test on every run.
"""

from __future__ import annotations

import copy

import pytest
from _pytest.config.findpaths import determine_setup


def correct(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Re-decide the setup with every option known; adopt it if pytest was misled."""
    ns = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if getattr(ns, "rootdir", None) or getattr(ns, "inifilename", None):
        return  # the user chose explicitly: theirs stands
    rootpath, inipath, inicfg, _ = determine_setup(
        inifile=None,
        override_ini=getattr(ns, "override_ini", None),
        args=getattr(ns, "file_or_dir", []),
        rootdir_cmd_arg=None,
        invocation_dir=config.invocation_params.dir,
    )
    if rootpath == config.rootpath and inipath == config.inipath:
        return
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    config._inicache.clear()
    parser.extra_info["rootdir"] = str(rootpath)
    parser.extra_info["inifile"] = str(inipath)
    addopts = list(config.getini("addopts"))
    if addopts:
        args[:] = [*addopts, *args]
        # `-p no:NAME` in addopts: block (and unload) what the config file turns off.
        config.pluginmanager.consider_preparse(addopts, exclude_only=True)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir is None:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)
