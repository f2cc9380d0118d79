"""harness.results.commits: how a commit is shown and linked. Pure."""

from __future__ import annotations

import pytest

from harness.results.commits import commit_url, short_commit, template_problem, url_template

SHA = "0123456789abcdef0123456789abcdef01234567"
TEMPLATE = "https://github.com/owner/repo/commit/{commit}"


@pytest.mark.parametrize(
    ("recorded", "shown"),
    [(SHA, "0123456789"), (SHA + "-dirty", "0123456789-dirty"), ("unknown", "unknown"), ("", "unknown"), ("abc", "abc")],
)
def test_the_short_form(recorded: str, shown: str) -> None:
    assert short_commit(recorded) == shown


def test_a_link_goes_to_the_commit_and_a_dirty_run_to_the_commit_it_started_from() -> None:
    assert commit_url(TEMPLATE, SHA) == f"https://github.com/owner/repo/commit/{SHA}"
    assert commit_url(TEMPLATE, SHA + "-dirty") == f"https://github.com/owner/repo/commit/{SHA}"
    assert commit_url(TEMPLATE, "unknown") is None and commit_url(TEMPLATE, "") is None
    assert commit_url(None, SHA) is None


def test_the_template_comes_from_the_flag_else_from_github_actions() -> None:
    actions = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "owner/repo"}
    assert url_template(None, actions) == TEMPLATE
    assert url_template("https://git.example/c/{commit}", actions) == "https://git.example/c/{commit}"
    assert url_template(None, {}) is None
    assert url_template(None, {**actions, "GITHUB_REPOSITORY": "not a repo"}) is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("ftp://example.com/{commit}", "https://"),
        ("https://example.com/commit/", "{commit} exactly once"),
        ("https://example.com/{commit}/{commit}", "exactly once"),
        ("https://example.com/a b/{commit}", "no spaces"),
    ],
)
def test_a_template_that_cannot_link_says_why(template: str, problem: str) -> None:
    assert problem in (template_problem(template) or "")
    assert template_problem(TEMPLATE) is None
