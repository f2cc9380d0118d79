"""uv looks where pip looks: pip's effective install configuration (``pip config list`` and ``PIP_*`` variables) as
uv's environment variables, so that nox's uv backend takes the wheels pip would (local find-links, corporate indexes,
constraints). Used by noxfile.py; pure, standard library only (it runs under nox's Python, before any environment)."""

from __future__ import annotations

import ast
from collections.abc import Mapping

_PIP_SECTIONS = ("global", "install", ":env:")  # `pip config list` sections an install reads, the later winning
_PIP_ALIASES = {"default-timeout": "timeout"}
# pip option -> uv variable, the uv variables that already say it, how uv separates several values (None: one value).
# pip separates list values with whitespace; uv wants commas for find-links. uv has no variable for pip's no-index.
_PIP_TO_UV: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("find-links", "UV_FIND_LINKS", (), ","),
    ("index-url", "UV_DEFAULT_INDEX", ("UV_INDEX_URL",), None),
    ("extra-index-url", "UV_INDEX", ("UV_EXTRA_INDEX_URL",), " "),
    ("constraint", "UV_CONSTRAINT", (), " "),
    ("trusted-host", "UV_INSECURE_HOST", (), " "),
    ("timeout", "UV_HTTP_TIMEOUT", (), None),
    ("cert", "SSL_CERT_FILE", (), None),
)


def _unquote(value: str) -> str:
    """A `pip config list` value is printed as a Python literal ('/opt/wheels'); anything else is taken as it is."""
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value.strip()
    return literal if isinstance(literal, str) else value.strip()


def pip_options(pip_config_list: str, environ: Mapping[str, str]) -> dict[str, str]:
    """pip's effective install options: `pip config list` (global < install < :env:), then PIP_* variables on top."""
    sections: dict[str, dict[str, str]] = {section: {} for section in _PIP_SECTIONS}
    for line in pip_config_list.splitlines():
        name, equals, value = line.partition("=")
        section, _, key = name.strip().rpartition(".")
        if equals and section in sections:
            sections[section][_PIP_ALIASES.get(key, key)] = _unquote(value)
    options = {key: value for section in _PIP_SECTIONS for key, value in sections[section].items()}
    for name, value in environ.items():
        if name.startswith("PIP_"):
            key = name.removeprefix("PIP_").lower().replace("_", "-")
            options[_PIP_ALIASES.get(key, key)] = value
    return options


def uv_environment(pip_config_list: str, environ: Mapping[str, str]) -> dict[str, str]:
    """uv's variables for pip's configuration (`pip config list` output and PIP_* variables), so that uv takes the
    wheels pip would: find-links, indexes, constraints, trusted hosts, timeout, CA bundle. A uv variable already set
    in ``environ`` is never overridden. With extra indexes, uv compares every index as pip does (unsafe-best-match)
    instead of stopping at the first that has the package, which would take a torch pip would not.
    """
    pip = pip_options(pip_config_list, environ)
    out: dict[str, str] = {}
    for option, variable, aliases, separator in _PIP_TO_UV:
        values = pip.get(option, "").split() if separator else [pip.get(option, "").strip()]
        if any(values) and not any(name in environ for name in (variable, *aliases)):
            out[variable] = (separator or "").join(values)
    if pip.get("extra-index-url", "").strip() and "UV_INDEX_STRATEGY" not in environ:
        out["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return out
