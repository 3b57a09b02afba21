"""Regenerate the committed figures in assets/ (run: python tools/make_assets.py).

The figures are drawn by tcpbook itself, so they always match the model: the state diagram
from the transition table, the ladders from simulated runs.
"""

from __future__ import annotations

from pathlib import Path

import tcpbook
from tcpbook.render import draw_to_file, figure_bytes, ladder, state_diagram

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PNG_DPI = 150


def _ladder(name: str, trace: tcpbook.Trace, *, captions: bool = True) -> None:
    fig = ladder(trace, captions=captions)
    (ASSETS / f"{name}.svg").write_bytes(figure_bytes(fig, "svg"))
    (ASSETS / f"{name}.png").write_bytes(figure_bytes(fig, "png", dpi=PNG_DPI))


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    diagram = state_diagram()
    diagram.save(ASSETS / "state-diagram.svg")
    diagram.save(ASSETS / "state-diagram.png")
    # Where A and B are 0.8 s into the close, with the numbered steps that brought them there.
    lit = state_diagram(tcpbook.simulate("close"), at=0.8)
    lit.save(ASSETS / "state-diagram-close.svg")
    lit.save(ASSETS / "state-diagram-close.png")
    _ladder("close-ladder", tcpbook.simulate("close"))
    # python -m tcpbook run close --drop 11: B retransmits its FIN, A re-ACKs, 2MSL restarts.
    _ladder("close-lost-final-ack", tcpbook.simulate("close", drop=[11]))
    _ladder("handshake-ladder", tcpbook.simulate("handshake"))
    # A's host vanishes in FIN_WAIT_2: B's FIN and its retransmissions reach a host gone.
    _ladder("a-vanishes-ladder", tcpbook.simulate("a-vanishes"), captions=False)
    draw_to_file(tcpbook.simulate("close"), kind="timeline", path=ASSETS / "close-timeline.png")
    for path in sorted(ASSETS.iterdir()):
        print(f"{path.name:<28} {path.stat().st_size:>8} bytes")


if __name__ == "__main__":
    main()
