"""A commit as the harness names it: the short form every message and chart shows, and the link to its page. Pure.

Every result row records ``git_commit``: the full hash of the checkout that ran, ``<hash>-dirty`` when tracked files were
modified, ``unknown`` outside a repository (:func:`harness.results.fingerprint.git_commit`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SHORT = 10  # characters of a hash shown: the harness's messages have always shown ten
DIRTY = "-dirty"
TEMPLATE_FIELD = "{commit}"
_HASH = re.compile(r"[0-9a-f]{7,64}")


def short_commit(commit: str) -> str:
    """``0123456789abcdef...`` -> ``0123456789``; ``...-dirty`` keeps its mark; an empty one reads ``unknown``."""
    if not commit:
        return "unknown"
    base = commit.removesuffix(DIRTY)
    return base[:SHORT] + (DIRTY if commit.endswith(DIRTY) else "")


def is_hash(commit: str) -> bool:
    """Whether ``commit`` (its ``-dirty`` mark aside) is a hexadecimal hash, i.e. names a commit a page can show."""
    return bool(_HASH.fullmatch(commit.removesuffix(DIRTY)))


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot make commit links, or None: it must be http(s) and hold ``{commit}`` exactly once."""
    if not template.startswith(("https://", "http://")):
        return "must start with https:// or http://"
    if template.count(TEMPLATE_FIELD) != 1:
        return f"must hold {TEMPLATE_FIELD} exactly once, e.g. https://github.com/OWNER/REPO/commit/{TEMPLATE_FIELD}"
    if any(c.isspace() or not c.isprintable() for c in template):
        return "must hold no spaces or control characters"
    return None


def url_template(given: str | None, environ: Mapping[str, str]) -> str | None:
    """Where a commit's page is: ``given`` (``--commit-url``), else the repository GitHub Actions names
    (``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``), else None (commits shown without links)."""
    if given:
        return given
    server, repository = environ.get("GITHUB_SERVER_URL", ""), environ.get("GITHUB_REPOSITORY", "")
    if server and re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        template = f"{server.rstrip('/')}/{repository}/commit/{TEMPLATE_FIELD}"
        return template if template_problem(template) is None else None
    return None


def commit_url(template: str | None, commit: str) -> str | None:
    """The page of ``commit`` (a dirty checkout links to the commit it started from); None without a template or a hash."""
    if template is None or not is_hash(commit):
        return None
    return template.replace(TEMPLATE_FIELD, commit.removesuffix(DIRTY))
