"""report.html: report.md as one self-contained page (images embedded).

Converts the small Markdown subset the report writes (headings, paragraphs,
pipe tables, "- " lists, `code`, fenced code blocks, images), so the page
opens in a browser with no server and says exactly what report.md says.
"""

from __future__ import annotations

import base64
import html
import os
import re

_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]+)\)$")
_CODE = re.compile(r"`([^`]+)`")
# A cell that starts with a number ("0.9933 ± 0.0019", "2.84 s", "-3", "n/a" is not one).
_NUMBER = re.compile(r"^[-+−]?\.?\d")
_STYLE = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
          "th{background:#eee}td.number{text-align:right}"
          "img{max-width:100%}")


def _text(text: str) -> str:
    """Escaped text, with `code` spans as <code>."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def _cells(line: str) -> list[str]:
    return [_text(cell.strip()) for cell in line.strip().strip("|").split("|")]


def _cell(cell: str) -> str:
    """A body cell: numbers right-aligned, so their digits line up; text left-aligned."""
    return f'<td class="number">{cell}</td>' if _NUMBER.match(cell) else f"<td>{cell}</td>"


def _table(lines: list[str]) -> str:
    header, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(match: re.Match, base_dir: str) -> str:
    with open(os.path.join(base_dir, match["src"]), "rb") as handle:
        data = base64.b64encode(handle.read()).decode("ascii")
    return f'<p><img alt="{html.escape(match["alt"])}" src="data:image/png;base64,{data}"></p>'


def _block(block: list[str], base_dir: str) -> str:
    first = block[0]
    if first.startswith("```"):
        return "<pre>" + html.escape("\n".join(block[1:-1])) + "</pre>"
    if first.startswith("#"):
        level = len(first) - len(first.lstrip("#"))
        return f"<h{level}>{_text(first[level:].strip())}</h{level}>"
    if first.startswith("|"):
        return _table(block)
    if all(line.startswith("- ") for line in block):
        return "<ul>" + "".join(f"<li>{_text(line[2:])}</li>" for line in block) + "</ul>"
    images = [_IMAGE.match(line) for line in block]
    if all(images):
        return "".join(_image(match, base_dir) for match in images)
    return "<p>" + "<br>".join(_text(line) for line in block) + "</p>"


def markdown_to_html(markdown: str, base_dir: str, title: str = "nodewise report") -> str:
    """The page for `markdown`, reading its images from `base_dir`."""
    blocks, current = [], []
    for line in markdown.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    body = "\n".join(_block(block, base_dir) for block in blocks)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
