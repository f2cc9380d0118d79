"""The report's blocks (heading, paragraph, table, image, code, headline) and their two renderings, Markdown and HTML,
so that the HTML page always says what ``index.md`` says. Pure: text in, text out."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Link:
    """A table cell that links: ``url`` is http(s) (anything else is shown as plain text)."""

    text: str
    url: str


Cell = str | Link


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Image:
    path: str  # relative to the report directory
    alt: str


@dataclass(frozen=True)
class Code:
    lines: tuple[str, ...]  # shown as written (a fenced block in markdown, <pre> in HTML)
    language: str = "python"


@dataclass(frozen=True)
class Headline:
    """The first thing a reader sees: does the gate pass, in colour, with its counts, its gates and one line per
    regression."""

    passed: bool
    text: str
    lines: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        return "PASS" if self.passed else "FAIL"


Block = Heading | Paragraph | Table | Image | Code | Headline


def _linkable(cell: Link) -> bool:
    return cell.url.startswith(("https://", "http://")) and cell.url.isprintable() and " " not in cell.url


def _cell(cell: Cell) -> str:
    if isinstance(cell, Link):
        text = f"[{cell.text}]({cell.url.replace(')', '%29')})" if _linkable(cell) else cell.text
    else:
        text = cell
    return text.replace("|", "\\|").replace("\n", " ")


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Link):
        text = html.escape(cell.text)
        return f'<a href="{html.escape(cell.url)}">{text}</a>' if _linkable(cell) else text
    return html.escape(cell)


def to_markdown(blocks: Sequence[Block], *, images: bool = True) -> str:
    """``images`` False: each image named instead of linked (a CI job summary shows no relative links: the charts are in
    the uploaded report)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            out.append(
                "\n".join(
                    ["| " + " | ".join(_cell(h) for h in block.header) + " |", "|" + "---|" * len(block.header)]
                    + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
                )
            )
        elif isinstance(block, Headline):
            out.append("\n".join([f"**{block.word}**: {block.text}", *(f"- {_cell(line)}" for line in block.lines)]))
        elif isinstance(block, Code):
            fence = "~~~~" if any(line.startswith("```") for line in block.lines) else "```"
            out.append("\n".join([fence + block.language, *block.lines, fence]))
        else:
            out.append(
                f"![{block.alt}]({block.path})" if images else f"*Chart `{block.path}` ({block.alt}): in the report artifact.*"
            )
    return "\n\n".join(out) + "\n"


_STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}h1,h2,h3{font-weight:600}
.headline{padding:.8em 1em;border-radius:6px;font-size:16px;margin:1em 0}.headline strong{font-size:22px;margin-right:.4em}
.headline.pass{background:#e6f4ea;border:2px solid #1e8e3e}.headline.pass strong{color:#1e8e3e}
.headline.fail{background:#fce8e6;border:2px solid #d93025}.headline.fail strong{color:#d93025}
.headline ul{margin:.4em 0 0 0;font-size:14px}"""


def to_html(blocks: Sequence[Block], *, title: str) -> str:
    out = [
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>'
    ]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            out.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>")
        elif isinstance(block, Headline):
            items = "".join(f"<li>{html.escape(line)}</li>" for line in block.lines)
            out.append(
                f'<div class="headline {block.word.lower()}" id="headline"><strong>{block.word}</strong> '
                f"{html.escape(block.text)}{f'<ul>{items}</ul>' if items else ''}</div>"
            )
        elif isinstance(block, Code):
            out.append(f"<pre><code>{html.escape(chr(10).join(block.lines))}</code></pre>")
        else:
            out.append(f'<p><img src="{html.escape(block.path)}" alt="{html.escape(block.alt)}"></p>')
    out.append("</body>\n</html>\n")
    return "\n".join(out)
