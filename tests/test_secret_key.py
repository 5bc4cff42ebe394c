"""SECRET_KEY: required on Lambda and with DEBUG off; a development checkout without one uses
the key kept in its .secret_key, the same for every process, never one made per process."""

import os
import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from devstack.processes import ROOT
from triggerapi.secret_key import KEY_FILE, ON_LAMBDA, OUTSIDE_A_CHECKOUT, key_file_read, secret_key_for


def checkout(tmp_path, marker: str):
    (tmp_path / "manage.py").write_text("")
    (tmp_path / marker).mkdir()
    return tmp_path


def settings_in_a_process(*names: str, **environment: str) -> subprocess.CompletedProcess:
    """A new interpreter loading the real settings from this checkout, printing `names`."""
    own = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "AWS_LAMBDA_FUNCTION_NAME", "DEBUG", "HOOKS_ALLOW_HTTP")
    env = {k: v for k, v in os.environ.items() if k not in own and k != "HOOKS_ALLOW_PRIVATE_TARGETS"}
    code = "; ".join(["import django", "from django.conf import settings", "django.setup()"])
    code += "".join(f"; print(settings.{name})" for name in names)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "triggerapi.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_key_from_the_environment_is_used_as_it_is_everywhere(tmp_path):
    for is_lambda, debug in [(True, False), (False, False), (False, True)]:
        assert secret_key_for(configured="set", base_dir=tmp_path, is_lambda=is_lambda, debug=debug) == "set"
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.parametrize("debug", [False, True])
def test_on_lambda_without_a_key_the_settings_refuse_even_in_a_checkout_or_with_debug(tmp_path, debug):
    with pytest.raises(ImproperlyConfigured, match="must be set on Lambda"):
        secret_key_for(configured="", base_dir=checkout(tmp_path, ".git"), is_lambda=True, debug=debug)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_lambda_function_without_a_key_refuses_to_start():
    result = settings_in_a_process("SECRET_KEY", AWS_LAMBDA_FUNCTION_NAME="triggerapi-prod", DEBUG="true")

    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {ON_LAMBDA}" in result.stderr


@pytest.mark.parametrize("contents", [[], ["manage.py"], ["devstack"]], ids=["empty", "manage.py only", "no manage.py"])
def test_with_debug_off_outside_a_checkout_the_settings_refuse(tmp_path, contents):
    for name in contents:
        (tmp_path / name).mkdir() if name == "devstack" else (tmp_path / name).write_text("")

    with pytest.raises(ImproperlyConfigured) as refused:
        secret_key_for(configured="", base_dir=tmp_path, is_lambda=False, debug=False)

    assert str(refused.value) == OUTSIDE_A_CHECKOUT
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.parametrize("marker", [".git", "devstack"])
def test_a_checkout_without_a_key_makes_one_in_its_key_file_once_readable_only_by_its_owner(tmp_path, marker):
    base = checkout(tmp_path, marker)

    first = secret_key_for(configured="", base_dir=base, is_lambda=False, debug=False)
    again = secret_key_for(configured="", base_dir=base, is_lambda=False, debug=False)

    assert first == again == (base / KEY_FILE).read_text().strip() and len(first) >= 50
    assert stat.S_IMODE((base / KEY_FILE).stat().st_mode) == 0o600
    assert sorted(path.name for path in base.iterdir()) == sorted([KEY_FILE, "manage.py", marker])


def test_debug_on_outside_a_checkout_uses_the_key_file_too(tmp_path):
    key = secret_key_for(configured="", base_dir=tmp_path, is_lambda=False, debug=True)

    assert key == (tmp_path / KEY_FILE).read_text().strip()


def test_processes_making_the_key_file_at_once_all_get_the_same_key(tmp_path):
    path = str(tmp_path / KEY_FILE)
    code = f"import pathlib, triggerapi.secret_key as k; print(k.key_file_read(pathlib.Path({path!r})))"
    racers = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(6)
    ]

    keys = {racer.communicate(timeout=60)[0].strip() for racer in racers}

    assert keys == {(tmp_path / KEY_FILE).read_text().strip()}
    assert [path.name for path in tmp_path.iterdir()] == [KEY_FILE]


def test_an_empty_key_file_is_refused_rather_than_used(tmp_path):
    (tmp_path / KEY_FILE).write_text("\n")

    with pytest.raises(ImproperlyConfigured, match="is empty"):
        key_file_read(tmp_path / KEY_FILE)


def test_two_processes_of_this_checkout_without_a_key_agree_on_the_one_in_its_file():
    first, second = settings_in_a_process("SECRET_KEY"), settings_in_a_process("SECRET_KEY")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout == second.stdout == (ROOT / KEY_FILE).read_text().strip() + "\n"


def test_on_lambda_webhooks_stay_https_and_public_whatever_the_environment_says():
    result = settings_in_a_process(
        "HOOKS_ALLOW_HTTP",
        "HOOKS_ALLOW_PRIVATE_TARGETS",
        AWS_LAMBDA_FUNCTION_NAME="triggerapi-prod",
        SECRET_KEY="x",
        HOOKS_ALLOW_HTTP="true",
        HOOKS_ALLOW_PRIVATE_TARGETS="true",
    )

    assert (result.returncode, result.stdout) == (0, "False\nFalse\n"), result.stderr
