"""What every figure shares: the batch backend, the CJK font for Chinese terms, indicator
labels, and writing a figure to PNG and SVG.

Labels are in English with the Chinese term where the plan has one, so a CJK font is
registered at import (see :func:`configure_fonts`).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    # batch use (CLI, workers, servers) needs no display; in a notebook keep the inline backend
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager

from experiments.run import atomic
from sim.policy.indicators import BY_NAME

# --- fonts ------------------------------------------------------------------------------

#: CJK font families tried in order when the bundled font is not installed.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")
#: The font file bundled by the ``mplfonts`` package (a dependency), inside its package folder.
BUNDLED_CJK = ("fonts", "NotoSansCJKsc-Regular.otf")


def bundled_cjk_file() -> Path | None:
    """The CJK font shipped inside the mplfonts wheel, found without importing the package
    (its import would touch the user's matplotlib configuration)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*BUNDLED_CJK)
    return path if path.is_file() else None


def configure_fonts() -> str | None:
    """Make Chinese terms render in every figure, and return the CJK family used.

    The bundled Noto Sans CJK SC is preferred so figures look the same on every machine;
    a system CJK font is the fallback. Latin text stays in DejaVu Sans; matplotlib falls
    back glyph by glyph to the CJK family for Chinese characters.

    Returns:
        The CJK family name, or None when no CJK font exists (Chinese then shows as boxes,
        and matplotlib warns "Glyph ... missing from font(s)").
    """
    family = None
    bundled = bundled_cjk_file()
    if bundled is not None:
        font_manager.fontManager.addfont(str(bundled))
        family = font_manager.FontProperties(fname=str(bundled)).get_name()
    else:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        family = next((f for f in CJK_FAMILIES if f in installed), None)
    if family is not None:
        # a list of families (not the generic "sans-serif") is what turns on per-glyph fallback
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    matplotlib.rcParams["svg.fonttype"] = "none"
    # the same figure gives the same SVG bytes: fixed element ids instead of random ones
    # (a run's folder is reproducible, and figures drawn in worker processes can be compared)
    matplotlib.rcParams["svg.hashsalt"] = "countysim"
    return family


CJK_FAMILY = configure_fonts()


def label(name: str) -> str:
    """An indicator's English name with its Chinese term, for axis titles and legends."""
    ind = BY_NAME.get(name)
    return f"{name.replace('_', ' ')} ({ind.zh})" if ind is not None else name.replace("_", " ")


#: File metadata by format: no creation date in the SVG, so equal figures are equal files.
METADATA: dict[str, dict[str, str | None]] = {"png": {}, "svg": {"Date": None}}


def save(fig: plt.Figure, folder: Path, name: str, trim: bool = True) -> list[Path]:
    """Write a figure as PNG and SVG, atomically (the same figure gives the same bytes).

    Args:
        fig: The figure (closed afterwards).
        folder: Where to write ``name.png`` and ``name.svg``.
        name: The files' name.
        trim: Trim the margins to the drawn content. False for a figure laid out with fixed
            margins: trimming costs a layout pass per file.
    """
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=130, bbox_inches="tight" if trim else None, metadata=METADATA[ext])
        path = folder / f"{name}.{ext}"
        atomic.write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths
