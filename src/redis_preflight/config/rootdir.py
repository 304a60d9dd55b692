"""pytest's rootdir and ini file, settled again once the plugin's options are known.

pytest settles them before it loads installed plugins (Config.parse), reading the command line
with its own options only: in `pytest --redis-url URL --report-dir /abs/dir` it takes /abs/dir,
an existing directory, for a test path, so rootdir becomes /abs/dir and the project's pytest.ini
(testpaths = checks) is never read. pytest has no public way to settle them again: its private
attributes are used here only, pinned by tests/test_diagnoses_e2e.py::test_report_dir_that_exists*.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import pytest
from _pytest.config.findpaths import determine_setup


def resettle(config: pytest.Config, args: list[str], value_flags: Sequence[str]) -> None:
    """When an option of ours took a value pytest read as a path, settle rootdir and ini again."""
    if not any(arg in value_flags for arg in args):
        return
    known = config.known_args_namespace
    rootpath, inipath, inicfg, ignored = determine_setup(
        inifile=known.inifilename,
        override_ini=known.override_ini,
        args=known.file_or_dir,
        rootdir_cmd_arg=known.rootdir or None,
        invocation_dir=config.invocation_params.dir,
    )
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    config._ignored_config_files = ignored
    config._inicache.clear()
    known.confcutdir = str(inipath.parent if inipath else rootpath)
    # The ini pytest did not read: its addopts (--strict-markers, --tb=short) still apply.
    args[:0] = shlex.split(" ".join(config.getini("addopts")))
