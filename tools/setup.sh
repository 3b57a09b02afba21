#!/usr/bin/env bash
# Make sure the system programs tcpbook needs are on this machine.
#
#   tools/setup.sh graphviz            # `dot` is required: install it or fail
#   tools/setup.sh graphviz chromium   # chromium is optional: install it or warn
#   tools/setup.sh ... capture         # tcpdump and tshark for the capture tests (optional)
#   tools/setup.sh node                # Node.js and npm for `make site`: install them or fail
#
# On Debian/Ubuntu as root, missing packages are installed with apt-get
# (one `apt-get update`, one `apt-get install` for everything missing).
# Anywhere else nothing is installed: a missing `dot` fails with one clear
# message, a missing Chromium only prints a note (the browser test is then
# skipped with the reason, except under CI where it fails).
set -euo pipefail

want_graphviz=0
want_chromium=0
want_capture=0
want_node=0
for arg in "$@"; do
    case "$arg" in
        graphviz) want_graphviz=1 ;;
        chromium) want_chromium=1 ;;
        capture) want_capture=1 ;;
        node) want_node=1 ;;
        *) echo "tools/setup.sh: unknown component '$arg' (known: graphviz chromium capture node)" >&2; exit 2 ;;
    esac
done

have() { command -v "$1" >/dev/null 2>&1; }

find_chromium() {
    local c
    for c in "${TCPBOOK_CHROMIUM:-}" chromium chromium-browser google-chrome-stable google-chrome; do
        [ -n "$c" ] || continue
        if have "$c"; then command -v "$c"; return 0; fi
    done
    return 1
}

can_apt() { have apt-get && [ "$(id -u)" = "0" ]; }

missing=()
if [ "$want_graphviz" = 1 ] && ! have dot; then missing+=(graphviz); fi
if [ "$want_chromium" = 1 ] && ! find_chromium >/dev/null; then missing+=(chromium); fi
if [ "$want_capture" = 1 ] && ! have tcpdump; then missing+=(tcpdump); fi
if [ "$want_capture" = 1 ] && ! have tshark; then missing+=(tshark); fi
if [ "$want_node" = 1 ] && ! have npm; then missing+=(nodejs npm); fi

if [ "${#missing[@]}" -gt 0 ] && can_apt; then
    echo "==> installing system packages: ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer "no" without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

status=0
if [ "$want_graphviz" = 1 ]; then
    if have dot; then
        :
    else
        cat >&2 <<'MSG'
tcpbook needs Graphviz's `dot` program to draw its diagrams, and it is not installed.
Install the graphviz package, then run make again:
    conda install -c conda-forge graphviz     # conda / mamba
    brew install graphviz                     # macOS
    sudo apt-get install graphviz             # Debian / Ubuntu
MSG
        status=1
    fi
fi

if [ "$want_chromium" = 1 ]; then
    if ! find_chromium >/dev/null; then
        echo "note: no Chromium found (sudo apt-get install chromium, or set TCPBOOK_CHROMIUM=/path/to/chrome);" \
             "the browser test will be skipped." >&2
    fi
fi

if [ "$want_node" = 1 ] && ! have npm; then
    echo "make site needs Node.js and npm to install the in-page Python runtime:" \
         "install them (e.g. sudo apt-get install nodejs npm), then run make again." >&2
    status=1
fi

exit "$status"
