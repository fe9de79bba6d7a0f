#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service),
# with a fresh HOME for the daemon so every run starts with an empty keyring.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "run-with-keyring: needs dbus-run-session and gnome-keyring-daemon (apt-get install -y dbus gnome-keyring libsecret-tools tmux strace)" >&2
  exit 1
fi
keyring_home=$(mktemp -d)
# Not exec: this shell must outlive the session to run the trap (an exec'd shell runs no trap, and the folder stayed).
trap 'rm -rf "$keyring_home"' EXIT
export KEYRING_HOME="$keyring_home"
dbus-run-session -- bash -c '
  export HOME="$KEYRING_HOME"
  printf %s test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # The daemon may own the Secret Service name a moment after it returns: a client that asks before then has the bus
  # start a second daemon (with the bus'"'"'s HOME, its keyring locked), and the two fight over the name.
  for _ in $(seq 1 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
      string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  export OKTA_CONNECT_TEST_KEYRING=1
  exec "$@"
' keyring "$@"
