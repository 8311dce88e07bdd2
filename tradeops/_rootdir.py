"""The rootdir pytest would have chosen had it known our options: `--ops-config PATH`.

pytest decides the rootdir (and so the config file, its addopts and testpaths) from the
command line's path-like arguments *before* it loads installed plugins. An option it does
not know yet, such as `--ops-config /etc/tradeops/ops.toml`, leaves its value looking like
a path: `cd /opt/tradeops && pytest -m preflight --ops-config /etc/tradeops/ops.toml`
roots the run at /etc/tradeops, with no config file, no markers and no testpaths.

So the setup is decided again with every option known, and adopted where pytest was
misled: first from this plugin's own `pytest_addoption` (`correct_early`: the plugins the
config file turns off, such as Hypothesis's, are then blocked before they are imported,
when this plugin loads before them), then for certain in `pytest_load_initial_conftests`
(`correct`, which also puts the config file's addopts in front of the arguments). This
touches pytest's private attributes (`_rootpath`, `_inipath`, `_inicfg`), checked by the
README-commands test on every run.
"""

from __future__ import annotations

import copy
import os
import shlex

import pytest
from _pytest.config.findpaths import determine_setup

EARLY = pytest.StashKey[bool]()  # the setup was corrected before the other plugins loaded


def correct_early(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """From pytest_addoption, before later plugins load: adopt the setup, block what its
    addopts turn off."""
    config = pluginmanager.get_plugin("pytestconfig")
    if not isinstance(config, pytest.Config) or config.args:
        return  # not during parsing (a test's own Config, or pytester)
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    if _adopt(config, parser, args):
        config.stash[EARLY] = True
        config.pluginmanager.consider_preparse(list(config.getini("addopts")), exclude_only=True)


def correct(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """From pytest_load_initial_conftests: re-decide with every option known; adopt."""
    changed = _adopt(config, parser, args)
    if not (changed or config.stash.get(EARLY, False)):
        return
    addopts = list(config.getini("addopts"))
    if addopts:
        args[:] = [*addopts, *args]
        # `-p no:NAME` in addopts: block (and unload) what the config file turns off.
        config.pluginmanager.consider_preparse(addopts, exclude_only=True)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir is None:
        inipath = config.inipath
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else config.rootpath)


def _adopt(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> bool:
    """Decide the setup from `args` with the options known now; adopt it if it differs."""
    ns = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if getattr(ns, "rootdir", None) or getattr(ns, "inifilename", None):
        return False  # the user chose explicitly: theirs stands
    rootpath, inipath, inicfg, _ = determine_setup(
        inifile=None,
        override_ini=getattr(ns, "override_ini", None),
        args=getattr(ns, "file_or_dir", []),
        rootdir_cmd_arg=None,
        invocation_dir=config.invocation_params.dir,
    )
    if rootpath == config.rootpath and inipath == config.inipath:
        return False
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    config._inicache.clear()
    parser.extra_info["rootdir"] = str(rootpath)
    parser.extra_info["inifile"] = str(inipath)
    return True
