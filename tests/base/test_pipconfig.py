"""harness.base.pipconfig.uv_environment: uv is told where pip looks (find-links, indexes, caps), from fixed `pip config list` text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.base.pipconfig import pip_options, uv_environment

# `python -m pip config list` on the bench machine, with PIP_FIND_LINKS etc. exported (the :env: lines)
MACHINE = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.disable-pip-version-check='1'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/opt/wheels'
"""
MACHINE_ENV = {
    "PIP_DEFAULT_TIMEOUT": "180",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    "PIP_FIND_LINKS": "/opt/wheels",
}


def test_the_machine_config_gives_uv_the_local_wheels_the_indexes_and_the_cap() -> None:
    assert uv_environment(MACHINE, MACHINE_ENV) == {
        "UV_FIND_LINKS": "/opt/wheels",  # the torch 2.13.0+cpu wheel: without it uv takes PyPI's CUDA build
        "UV_INDEX": "file:///opt/pypi/simple file:///opt/pypi-more/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",  # pip's rule: the best version from any index
        "UV_CONSTRAINT": "/etc/xdg/pip/constraints.txt",
        "UV_HTTP_TIMEOUT": "180",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    }


@pytest.mark.parametrize(
    "config",
    ["global.find-links='/opt/wheels'", ":env:.find-links='/opt/wheels'", "install.find-links='/opt/wheels'"],
    ids=["global", "env", "install"],
)
def test_find_links_from_any_section_an_install_reads(config: str) -> None:
    assert uv_environment(config, {}) == {"UV_FIND_LINKS": "/opt/wheels"}


def test_sections_an_install_does_not_read_are_ignored() -> None:
    assert uv_environment("download.find-links='/opt/wheels'\nwheel.index-url='https://x/simple'", {}) == {}


def test_no_config_at_all_sets_nothing() -> None:
    assert uv_environment("", {}) == {}


def test_several_extra_indexes_separated_by_spaces_stay_separate() -> None:
    env = uv_environment("global.extra-index-url='https://a.example/simple https://b.example/simple'", {})
    assert env == {"UV_INDEX": "https://a.example/simple https://b.example/simple", "UV_INDEX_STRATEGY": "unsafe-best-match"}


def test_a_multi_line_config_value_is_split_on_its_newlines() -> None:
    # a pip.conf value written over several lines is printed with escaped newlines
    config = r"global.extra-index-url='\nhttps://a.example/simple\nhttps://b.example/simple'"
    assert uv_environment(config, {})["UV_INDEX"] == "https://a.example/simple https://b.example/simple"


def test_several_find_links_are_joined_with_commas_as_uv_reads_them() -> None:
    assert uv_environment("global.find-links='/opt/wheels /srv/wheels'", {}) == {"UV_FIND_LINKS": "/opt/wheels,/srv/wheels"}


def test_the_index_url_becomes_uv_s_default_index() -> None:
    assert uv_environment("global.index-url='https://mirror.example/simple'", {}) == {
        "UV_DEFAULT_INDEX": "https://mirror.example/simple"
    }


def test_an_environment_variable_wins_over_every_config_section() -> None:
    config = "global.find-links='/opt/wheels'\ninstall.find-links='/srv/wheels'\n:env:.find-links='/old'"
    assert uv_environment(config, {"PIP_FIND_LINKS": "/a /b"}) == {"UV_FIND_LINKS": "/a,/b"}


def test_the_install_section_wins_over_global() -> None:
    assert (
        pip_options("install.index-url='https://b/simple'\nglobal.index-url='https://a/simple'", {})["index-url"]
        == "https://b/simple"
    )


def test_timeout_and_default_timeout_are_one_option() -> None:
    assert uv_environment("global.timeout='60'", {"PIP_DEFAULT_TIMEOUT": "15"}) == {"UV_HTTP_TIMEOUT": "15"}


@pytest.mark.parametrize(
    ("already_set", "kept_out"),
    [
        ({"UV_FIND_LINKS": "/mine"}, {"UV_FIND_LINKS"}),
        ({"UV_INDEX_URL": "https://mine/simple"}, {"UV_DEFAULT_INDEX"}),
        ({"UV_DEFAULT_INDEX": "https://mine/simple"}, {"UV_DEFAULT_INDEX"}),
        ({"UV_EXTRA_INDEX_URL": "https://mine/simple"}, {"UV_INDEX"}),
        ({"UV_INDEX": "https://mine/simple"}, {"UV_INDEX"}),
        ({"UV_INDEX_STRATEGY": "first-index"}, {"UV_INDEX_STRATEGY"}),
        ({"UV_CONSTRAINT": "mine.txt"}, {"UV_CONSTRAINT"}),
        ({"SSL_CERT_FILE": "/mine.pem"}, {"SSL_CERT_FILE"}),
    ],
    ids=lambda value: ",".join(sorted(value)),
)
def test_a_uv_variable_the_user_set_is_never_overridden(already_set: dict[str, str], kept_out: set[str]) -> None:
    config = MACHINE + "global.index-url='https://mirror.example/simple'\n"
    env = uv_environment(config, already_set)
    assert not kept_out & env.keys(), env
    assert {"UV_FIND_LINKS", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_CONSTRAINT"} - kept_out <= env.keys(), env


def test_a_value_that_is_not_a_python_literal_is_taken_as_written() -> None:
    assert uv_environment("global.find-links=/opt/wheels", {}) == {"UV_FIND_LINKS": "/opt/wheels"}


_paths = st.lists(st.text(st.sampled_from("abc/._-0"), min_size=1, max_size=12), min_size=1, max_size=4)


@given(config=_paths, environ=st.one_of(st.none(), _paths))
def test_find_links_round_trip_and_the_environment_wins(config: list[str], environ: list[str] | None) -> None:
    pip_environ = {} if environ is None else {"PIP_FIND_LINKS": " ".join(environ)}
    env = uv_environment(f"global.find-links={' '.join(config)!r}", pip_environ)
    assert env["UV_FIND_LINKS"].split(",") == (config if environ is None else environ)
