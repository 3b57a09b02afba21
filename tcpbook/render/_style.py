"""Colours, fonts and line styles shared by every tcpbook figure.

The two endpoints are told apart three ways at once, so a figure survives colour blindness and a
grayscale printer: colour (Okabe & Ito's palette, "Color Universal Design", 2008), line style
(A solid, B dashed) and a letter.
"""

from __future__ import annotations

from typing import Final

# Okabe-Ito colours (https://jfly.uni-koeln.de/color/), distinguishable with any colour vision.
BLUE: Final = "#0072B2"
VERMILLION: Final = "#D55E00"
ORANGE: Final = "#E69F00"
SKY: Final = "#56B4E9"
GREEN: Final = "#009E73"
YELLOW: Final = "#F0E442"
PURPLE: Final = "#CC79A7"
BLACK: Final = "#000000"
GREY: Final = "#8C8C8C"
LIGHT_GREY: Final = "#BDBDBD"
LOSS_RED: Final = "#C00000"  # the X of a lost segment: its shape, not only its colour, says "lost"

ENDPOINT_COLOUR: Final = {"A": BLUE, "B": VERMILLION}
ENDPOINT_TINT: Final = {"A": "#CCE3F0", "B": "#F7DFCC"}  # 20 % of the colour on white
ENDPOINT_DASH: Final = {"A": "solid", "B": "dashed"}
SVG_DASH: Final = {"A": None, "B": "9,5"}

#: Light fills per state, grouped as the RFC figure groups them: opening, open, active close,
#: passive close. The state name is always written too, so the fill is only a help.
STATE_FILL: Final = {
    "CLOSED": "#EEEEEE",
    "LISTEN": "#DDEFFA",
    "SYN_SENT": "#C6E4F6",
    "SYN_RECEIVED": "#B3DBF3",
    "ESTABLISHED": "#BFE8DC",
    "FIN_WAIT_1": "#FBE3B3",
    "FIN_WAIT_2": "#F8D58F",
    "CLOSING": "#F5C66B",
    "TIME_WAIT": "#F2B84B",
    "CLOSE_WAIT": "#FAF6C6",
    "LAST_ACK": "#F6EE94",
}

MONO: Final = "DejaVu Sans Mono"  # wire notation (flags, seq, ack) lines up in a fixed-width font
SANS: Final = "DejaVu Sans"
