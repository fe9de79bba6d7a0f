#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service),
# with a fresh HOME for the daemon so every run starts with an empty keyring.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "run-with-keyring: needs dbus-run-session and gnome-keyring-daemon (apt-get install -y dbus gnome-keyring libsecret-tools tmux strace)" >&2
  exit 1
fi
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export KEYRING_HOME="$keyring_home"
exec dbus-run-session -- bash -c '
  export HOME="$KEYRING_HOME"
  printf %s test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export OKTA_CONNECT_TEST_KEYRING=1
  exec "$@"
' keyring "$@"
