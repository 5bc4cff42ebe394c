"""scripts/find-python, which `make` builds .venv with: a Python 3.13 that runs, found on the
PATH or among pyenv's versions, or one line saying there is none."""

import os
import stat
import subprocess
import sys

from devstack.processes import ROOT

FIND = ROOT / "scripts" / "find-python"


def find(tmp_path, version: str = "3.13", path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": str(tmp_path)}
    return subprocess.run([FIND, version], env=env, capture_output=True, text=True, timeout=30)


def pyenv_version(tmp_path, name: str, version: str) -> str:
    """A pyenv-like install: $HOME/.pyenv/versions/<name>/bin/python<version> (this Python)."""
    bin_dir = tmp_path / ".pyenv" / "versions" / name / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / f"python{version}"
    python.symlink_to(sys.executable)
    return str(python)


def test_with_no_python_of_that_version_it_says_so_in_one_line_and_fails(tmp_path):
    result = find(tmp_path, "3.99")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("make: no working Python 3.99 ") and len(result.stderr.splitlines()) == 1


def test_a_shim_on_the_path_that_fails_is_passed_over_for_pyenvs_own(tmp_path):
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python{}.{}".format(*sys.version_info[:2])
    shim.write_text("#!/bin/sh\necho 'pyenv: command not found' >&2\nexit 127\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    version = "{}.{}".format(*sys.version_info[:2])
    installed = pyenv_version(tmp_path, f"{version}.0", version)

    result = find(tmp_path, version, path=f"{shims}:{os.environ['PATH']}")

    assert (result.returncode, result.stdout.strip()) == (0, installed)


def test_a_python_on_the_path_that_runs_is_taken_first(tmp_path):
    version = "{}.{}".format(*sys.version_info[:2])
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / f"python{version}").symlink_to(sys.executable)

    result = find(tmp_path, version, path=f"{on_path}:/usr/bin:/bin")

    assert (result.returncode, result.stdout.strip()) == (0, str(on_path / f"python{version}"))
