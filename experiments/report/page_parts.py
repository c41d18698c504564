"""The pieces both report pages are built from: reading a folder's files, numbers and
tables as HTML, figures embedded as base64 PNG, and the page itself with its stylesheet and
the Chinese glyphs it uses (so that it needs nothing from elsewhere)."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager

from experiments.report.style import CJK_FAMILY, bundled_cjk_file
from sim.errors import InputError
from sim.policy.indicators import BY_NAME


@dataclass
class Figure:
    """One embedded figure (the SVG, when there is one, is written beside the folder's PNG)."""

    name: str
    png: bytes
    caption: str
    svg: bytes | None = None


# --- reading folders ----------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    """A JSON file (an input error when it cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot be read as JSON ({exc})", source=path) from None


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file (an input error when it cannot be read)."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"cannot be read as Parquet ({type(exc).__name__}: {exc})", source=path) from None


def folder_kind(folder: str | Path) -> str:
    """``run`` or ``experiment``, from the folder's manifest.

    Raises:
        InputError: The folder is missing, not a folder, or holds no countysim manifest.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("no such folder; give a run folder (countysim run) or an experiment folder", source=folder)
    if not folder.is_dir():
        raise InputError("is a file; give a run folder (countysim run) or an experiment folder", source=folder)
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise InputError(
            "is neither a run folder nor an experiment folder (no manifest.json); "
            "countysim run --out DIR or countysim experiment SPEC --out DIR makes one",
            source=folder,
        )
    data = read_json(manifest)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in ("run", "experiment"):
        raise InputError(f"manifest.json has kind {kind!r}; expected 'run' or 'experiment'", source=manifest)
    return kind


def require_files(folder: Path, names: Iterable[str], what: str) -> None:
    """An input error naming the files a ``what`` folder lacks."""
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise InputError(
            f"is a {what} folder but lacks {', '.join(missing)} (an interrupted or hand-edited folder?); "
            "rerun it to get a complete folder",
            source=folder,
        )


# --- small helpers ------------------------------------------------------------------------------


def render(fig: Any, svg: bool = False) -> tuple[bytes, bytes | None]:
    """A figure as PNG bytes (and SVG bytes when asked), closing it."""
    out = []
    for fmt in ("png", "svg") if svg else ("png",):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight")
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], (out[1] if svg else None)


def png(fig: Any) -> bytes:
    """A figure as PNG bytes, closing it."""
    return render(fig)[0]


def embed(name: str, fig: Any, caption: str) -> Figure:
    """A figure to embed in a page (and to write to the folder as PNG and SVG), closing it."""
    png, svg = render(fig, svg=True)
    return Figure(name, png, caption, svg)


def num(v: Any) -> str:
    """A number as a page shows it (thousands separated, about three significant digits)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        a = abs(float(v))
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{float(v):,.0f}"
        if a >= 1:
            return f"{float(v):,.2f}"
        return f"{float(v):.3g}"
    return str(v)


def esc(v: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(v))


def html_table(headers: list[str], rows: list[list[Any]], cls: str = "") -> str:
    """An HTML table (cells are HTML already), scrolling sideways when wide."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    return f'<div class="wide"><table class="{cls}">{thead}<tbody>{body}</tbody></table></div>'


def indicator_label(name: str) -> str:
    """An indicator's name with its Chinese term, as HTML."""
    ind = BY_NAME.get(name)
    return f"{esc(name)} <span class=zh>{esc(ind.zh)}</span>" if ind else esc(name)


def figure_html(fig: Figure) -> str:
    """A figure as an HTML figure with the PNG inside."""
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure id="fig-{esc(fig.name)}"><img src="data:image/png;base64,{data}" alt="{esc(fig.caption or fig.name)}">'
        f"<figcaption><b>{esc(fig.name)}</b>: {esc(fig.caption)}</figcaption></figure>"
    )


def provenance_rows(manifest: dict[str, Any]) -> list[list[Any]]:
    """Card rows saying when, from which commit, with which versions and on which machine."""
    versions = manifest.get("versions", {})
    machine = manifest.get("machine", {})
    return [
        ["created", esc(manifest.get("created", "–"))],
        ["git commit", f"<code>{esc(manifest.get('git_commit', '–'))}</code>"],
        ["versions", esc(", ".join(f"{k} {v}" for k, v in sorted(versions.items())))],
        ["machine", esc(", ".join(f"{k}: {v}" for k, v in machine.items()))],
    ]


# --- the page ----------------------------------------------------------------------------------

#: The family name of the embedded CJK subset (see :func:`cjk_font_face`).
CJK_WEB_FAMILY = "countysim-cjk"
CSS = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, countysim-cjk, sans-serif;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #111; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 2px solid #111; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eee; }
div.wide { overflow-x: auto; }
table.numbers td:not(:first-child) { text-align: right; }
.zh { color: #555; }
.met { font-weight: bold; }
.miss { font-style: italic; text-decoration: underline; }
figure { margin: 1.2em 0; page-break-inside: avoid; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #333; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .8em; }
footer { margin-top: 3em; font-size: .8em; color: #555; }
"""


def cjk_font_face(text: str) -> str:
    """A CSS @font-face with the page's Chinese characters, cut from the figures' CJK font.

    The reader's machine may have no Chinese font (a headless browser, a minimal Linux), so
    the page carries the few dozen glyphs it uses, as an embedded WOFF subset of tens of
    kilobytes, instead of pointing at a web font.
    """
    chars = "".join(sorted({c for c in text if ord(c) >= 0x2E80}))
    if not chars:
        return ""
    from fontTools import subset  # slow to import, and needed only for a page with Chinese text

    path = bundled_cjk_file()
    if path is None and CJK_FAMILY is not None:
        path = Path(font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY)))
    if path is None:
        return ""
    options = subset.Options()
    options.flavor = "woff"
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"@font-face {{ font-family: '{CJK_WEB_FAMILY}'; src: url(data:font/woff;base64,{data}) format('woff'); }}"


def page_html(title: str, folder: Path, sections: list[tuple[str, str]]) -> str:
    """The whole page: title, table of contents, the sections, and the footer."""
    toc = "".join(f'<li><a href="#s{k}">{esc(h)}</a></li>' for k, (h, _) in enumerate(sections))
    body = "".join(f'<section id="s{k}"><h2>{esc(h)}</h2>{c}</section>' for k, (h, c) in enumerate(sections))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    content = (
        f"<h1>{esc(title)}</h1><p>County Commerce Three-Year Action Plan (县域商业三年行动计划 2023–2025) "
        f"simulation. Folder: <code>{esc(folder.resolve())}</code>.</p><ul>{toc}</ul>{body}"
        f"<footer>Written by countysim report at {now}. Figures, tables and the Chinese glyphs are inside "
        "this page; nothing is loaded from elsewhere.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{cjk_font_face(content + title)}{CSS}</style></head>"
        f"<body>{content}</body></html>\n"
    )
