#!/usr/bin/env bash
# Make sure a Chromium the browser test can drive is installed.
#
# Why: Playwright's own browser download needs the internet, which CI and the
# offline build machine do not have; Debian's `chromium` package comes from the
# distribution's package registry instead. Installing needs root (apt-get), so
# without root we stop with one line that says what to do.
#
# Prints the path of the browser on success. Honours CHROMIUM_PATH (a browser
# you already have) and CHROMIUM_PACKAGES (default: "chromium fonts-liberation";
# the fonts are only a recommendation of the package, and screenshots without
# them show empty boxes instead of text).
set -euo pipefail

candidates=(/usr/bin/chromium /usr/bin/chromium-browser)
if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    candidates=("$CHROMIUM_PATH" "${candidates[@]}")
fi
read -r -a packages <<<"${CHROMIUM_PACKAGES:-chromium fonts-liberation}"

find_browser() {
    local path
    for path in "${candidates[@]}"; do
        if [[ -x "$path" ]]; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

if find_browser; then
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure_chromium: no Chromium found and not root: run 'sudo apt-get install -y ${packages[*]}' or set CHROMIUM_PATH" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no Chromium found and no apt-get: install Chromium yourself and set CHROMIUM_PATH" >&2
    exit 1
fi

log="$(mktemp -t ensure-chromium.XXXXXX.log)"
echo "ensure_chromium: installing Debian packages ${packages[*]} (log: $log)" >&2
if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"; } >"$log" 2>&1; then
    echo "ensure_chromium: 'apt-get install ${packages[*]}' failed; see $log" >&2
    exit 1
fi

if ! find_browser; then
    echo "ensure_chromium: ${packages[*]} installed but no browser at ${candidates[*]}; set CHROMIUM_PATH" >&2
    exit 1
fi
