"""Fast output for a picture that is redrawn many times: the explorer's ladder.

Three costs of a live redraw repeat work whose result cannot have changed:

* Writing SVG measures every text again: matplotlib caches text extents per renderer, and
  ``savefig`` makes a new SVG renderer each time. :func:`svg_bytes` keeps the measurements
  for the life of the process (they depend only on the string and the font), so the same
  figure gives the same bytes, only sooner.
* Laying out any text reads its font's height metrics from the font file's tables again
  (matplotlib keeps the extents of strings, not these). :class:`LiveCanvas` and the SVG
  renderer keep them, computed by the same arithmetic, so positions are the same to the bit.
* Encoding PNG filters and deflates every row, though a moving cursor changes a few of them.
  :class:`BandedPNG` deflates the picture in bands of rows, each flushed on a byte boundary
  with a fresh dictionary (zlib's ``Z_FULL_FLUSH`` semantics, RFC 1951 section 3.2.4), so a
  band that equals the background reuses its stored bytes; only the bands the cursor touches
  are compressed again. The result is an ordinary PNG (RFC 2083): filter type 0 on every row,
  one zlib stream in one IDAT chunk, the same pixels as the canvas.
"""

from __future__ import annotations

import codecs
import io
import struct
import zlib
from typing import Any

import numpy as np
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont, get_font

BAND_ROWS = 16  # rows per independently deflated band: a cursor touches two or three
ZLIB_LEVEL = 1  # speed over size: the bytes go to a browser on the same machine
_METRICS_MAX = 8192  # text extents kept (a ladder has a few hundred distinct strings)
_metrics: dict[tuple[str, Any, Any], tuple[float, float, float]] = {}


_heights: dict[tuple[Any, float], tuple[float, float, float] | tuple[None, None, None]] = {}


def _font_height_metrics(prop: Any, dpi: float) -> tuple[Any, Any, Any]:
    """Ascent, descent and line gap of ``prop``'s font at ``dpi``, in pixels, computed as
    ``matplotlib.text.Text`` computes them from the font's OS/2 (else hhea) table, and kept:
    matplotlib looks the font file up and reads its tables again for every text it lays out.
    ``(None, None, None)`` (matplotlib measures as usual) when a fallback list of families
    makes the font ambiguous."""
    key = (prop.copy(), dpi)
    found = _heights.get(key)
    if found is None:
        found = (None, None, None)
        if len(prop.get_family()) == 1:
            font = get_font(findfont(prop))
            for table_name, gap_key, ascent_key, descent_key in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                ("hhea", "lineGap", "ascent", "descent"),
            ):
                table: Any = font.get_sfnt_table(table_name)  # type: ignore[call-overload]
                if table is None:
                    continue
                fontsize = prop.get_size_in_points()
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]  # type: ignore[index]
                scale = 1 / units_per_em * fontsize * dpi / 72  # the same operations, same bits
                found = (
                    table[ascent_key] * scale,
                    -table[descent_key] * scale,
                    table[gap_key] * scale,
                )
                break
        if len(_heights) >= _METRICS_MAX:
            _heights.clear()
        _heights[key] = found
    return found


class MeasuredAggRenderer(RendererAgg):
    """An Agg renderer that keeps its fonts' height metrics (see :func:`_font_height_metrics`)."""

    def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
        # ``Text`` lays out with the figure's dpi, which is the renderer's (LiveCanvas below)
        return _font_height_metrics(prop, self.dpi)


class LiveCanvas(FigureCanvasAgg):
    """The Agg canvas of a figure redrawn many times: its renderer keeps font metrics."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        if getattr(self, "_live_key", None) != key:
            self.renderer = MeasuredAggRenderer(w, h, self.figure.dpi)  # type: ignore[no-untyped-call]
            self._live_key = key
        renderer: RendererAgg = self.renderer
        return renderer


class _MeasuredSVGRenderer(RendererSVG):
    """An SVG renderer that remembers text extents across renderers (SVG text is at 72 dpi,
    so the extent depends only on the string, the font properties and math mode)."""

    def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
        return _font_height_metrics(prop, 72.0)  # print_svg lays out at 72 dpi

    def get_text_width_height_descent(
        self, s: str, prop: Any, ismath: Any
    ) -> tuple[float, float, float]:
        key = (s, prop.copy(), ismath)  # a copy: FontProperties is mutable and hashed by value
        found = _metrics.get(key)
        if found is None:
            if len(_metrics) >= _METRICS_MAX:
                _metrics.clear()
            found = super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-untyped-call]
            _metrics[key] = found
        return found


class _MeasuredSVGCanvas(FigureCanvasSVG):
    """``FigureCanvasSVG.print_svg`` for a file object, with :class:`_MeasuredSVGRenderer`."""

    def print_svg(
        self,
        filename: Any,
        *,
        bbox_inches_restore: Any = None,
        metadata: Any = None,
        **_ignored: Any,  # facecolor, dpi...: print_figure has set them on the figure already
    ) -> None:
        dpi = self.figure.dpi
        self.figure.dpi = 72
        width, height = self.figure.get_size_inches()
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as opened:
            fh: Any = opened
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            svg = _MeasuredSVGRenderer(  # type: ignore[no-untyped-call]
                width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata
            )
            renderer: Any = MixedModeRenderer(  # type: ignore[no-untyped-call]
                self.figure, width, height, dpi, svg, bbox_inches_restore=bbox_inches_restore
            )
            self.figure.draw(renderer)
            renderer.finalize()


#: ``savefig(backend=...)`` loads ``FigureCanvas`` from this module.
FigureCanvas = _MeasuredSVGCanvas


def svg_bytes(fig: Figure) -> bytes:
    """``fig`` as SVG with text kept as text and no date: the bytes ``savefig`` writes with
    ``svg.fonttype = "none"``, ``svg.hashsalt = "tcpbook"``, measured with remembered extents."""
    import matplotlib

    buf = io.StringIO()  # text in, one encode out: no codec call per write (thousands)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tcpbook"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, backend=f"module://{__name__}")
    return buf.getvalue().encode("utf-8")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _adler_combine(adler1: int, adler2: int, len2: int) -> int:
    """zlib's ``adler32_combine``: the Adler-32 of A+B from those of A and B (RFC 1950 8.2)."""
    base = 65521
    rem = len2 % base
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 = (sum1 + (adler2 & 0xFFFF) + base - 1) % base
    sum2 = (sum2 + (adler1 >> 16) + (adler2 >> 16) + base - rem) % base
    return (sum2 << 16) | sum1


class BandedPNG:
    """PNG encoder for pictures that differ from one background in a few rows.

    ``BandedPNG(background)`` deflates the background once; :meth:`encode` deflates only the
    bands of rows that differ from it. ``background`` and the pictures are RGBA arrays of one
    shape (an Agg canvas's ``buffer_rgba()``); alpha is dropped, as the canvas is opaque.
    """

    def __init__(self, background: Any, band_rows: int = BAND_ROWS) -> None:
        self.background = np.array(background, dtype=np.uint8, copy=True)
        height, width, _ = self.background.shape
        self.width, self.height, self.band_rows = width, height, band_rows
        self.bands = [
            self._deflate(self.background[y : y + band_rows]) for y in range(0, height, band_rows)
        ]
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
        self._head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)

    @staticmethod
    def _deflate(rows: Any) -> tuple[bytes, int, int]:
        """Rows as PNG scanlines (filter 0 + RGB) deflated alone: bytes, Adler-32, length."""
        count, width, _ = rows.shape
        raw = np.zeros((count, 1 + 3 * width), dtype=np.uint8)
        raw[:, 1:] = rows[:, :, :3].reshape(count, 3 * width)
        data = raw.tobytes()
        packer = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, -15)
        return (
            packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH),
            zlib.adler32(data),
            len(data),
        )

    def encode(self, picture: Any) -> bytes:
        """``picture`` as PNG bytes, re-deflating only the bands that differ from the background."""
        image = np.asarray(picture)
        if image.shape != self.background.shape:
            raise ValueError(f"picture is {image.shape}, background {self.background.shape}")
        parts: list[bytes] = [b"\x78\x01"]  # zlib header: deflate, 32 K window, fastest
        adler = 1
        step = self.band_rows
        for i, y in enumerate(range(0, self.height, step)):
            rows = image[y : y + step]
            if np.array_equal(rows, self.background[y : y + step]):
                packed, band_adler, length = self.bands[i]
            else:
                packed, band_adler, length = self._deflate(rows)
            parts.append(packed)
            adler = _adler_combine(adler, band_adler, length)
        parts.append(b"\x03\x00")  # an empty final block (fixed Huffman, end of block)
        parts.append(struct.pack(">I", adler))
        return self._head + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
