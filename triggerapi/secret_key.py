"""Where SECRET_KEY comes from. It signs cursors and sessions and seals hook secrets, so every
process serving one store must hold the same key: a key invented per process would leave
each of gunicorn's workers unable to open the secrets another sealed.

- Set in the environment: that one.
- On Lambda: it must be set (the function refuses to start).
- In a development checkout (a `.git` or the `devstack` package beside manage.py: the
  Lambda zip has neither), or with DEBUG on: one kept in `.secret_key` at the checkout's
  root (git-ignored), made on first use with mode 0600, so every process started from the
  checkout (make run's server and deliveries, manage.py in another shell) reads the same.
- Otherwise (DEBUG off, outside a checkout): it must be set.

This module imports nothing of Django's settings: the settings module calls it."""

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE = ".secret_key"

ON_LAMBDA = "SECRET_KEY must be set on Lambda: it signs cursors and sessions and seals hook secrets (docs/DEPLOY.md)."
OUTSIDE_A_CHECKOUT = (
    "SECRET_KEY must be set with DEBUG off outside a development checkout: it signs cursors and sessions and "
    "seals hook secrets, so every process serving one store needs the same one."
)


def is_development_checkout(base_dir: Path) -> bool:
    return (base_dir / "manage.py").is_file() and ((base_dir / ".git").exists() or (base_dir / "devstack").is_dir())


def secret_key_for(*, configured: str, base_dir: Path, is_lambda: bool, debug: bool) -> str:
    """The SECRET_KEY to use, by the rules above; ImproperlyConfigured when there is none."""
    if configured:
        return configured
    if is_lambda:
        raise ImproperlyConfigured(ON_LAMBDA)
    if not (debug or is_development_checkout(base_dir)):
        raise ImproperlyConfigured(OUTSIDE_A_CHECKOUT)
    return key_file_read(base_dir / KEY_FILE)


def key_file_read(path: Path) -> str:
    """The key in `path`, made first if there is none. Two processes starting at once agree:
    the file appears whole (a hard link to a finished temporary file) or not at all, and
    the process whose link fails reads the one that won."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        # mkstemp makes the file with mode 0600.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{KEY_FILE}.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(50) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    except OSError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY is not set and {path} cannot be made ({exc}): set SECRET_KEY.") from exc
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it (a new key is made) or set SECRET_KEY.")
    return key
