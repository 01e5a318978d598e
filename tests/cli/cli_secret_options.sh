#!/usr/bin/env bash
# Secret-bearing options (issue 18, "CLI"): never taken by prefix matching, and their
# arguments never echoed, in all three programs.
#   cli_secret_options.sh BLUETTI BLUETTI_SIM BLUETTI_BRIDGE
set -u
BLUETTI=$1
SIM=$2
BRIDGE=$3
SECRET="hunter2-$$-Secret"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp XDG_STATE_HOME=$tmp/state XDG_CONFIG_HOME=$tmp/config
unset BLUETTI_PASSWORD BLUETTI_MQTT_PASSWORD BLUETTI_CERT_PASSWORD

# refused PROGRAM ARGS...: exit 2, the secret nowhere in stdout/stderr
refused() {
	local out rc
	out=$("$@" </dev/null 2>&1)
	rc=$?
	if [ "$rc" -ne 2 ]; then
		echo "FAIL: $* -> exit $rc, want 2"; echo "$out" | head -5 | sed 's/^/  | /'
		fails=$((fails + 1))
	fi
	if printf '%s' "$out" | grep -qF -- "$SECRET"; then
		echo "FAIL: $* echoed the secret:"; echo "$out" | grep -F -- "$SECRET" | sed 's/^/  | /'
		fails=$((fails + 1))
	fi
}
# silent PROGRAM ARGS...: any exit status, the secret nowhere in the output
silent() {
	local out
	out=$("$@" </dev/null 2>&1)
	if printf '%s' "$out" | grep -qF -- "$SECRET"; then
		echo "FAIL: $* echoed the secret:"; echo "$out" | grep -F -- "$SECRET" | sed 's/^/  | /'
		fails=$((fails + 1))
	fi
}

# The reported case: `--password SECRET` was taken as --password-file SECRET and the error
# said "no password (SECRET: No such file or directory)".
refused "$BLUETTI" login --email a@example.com --password "$SECRET"
refused "$BLUETTI" login --email a@example.com --password="$SECRET"
refused "$BLUETTI" login --email a@example.com --pass "$SECRET"
out=$("$BLUETTI" login --email a@example.com --password "$SECRET" </dev/null 2>&1)
printf '%s' "$out" | grep -qF "'--password' not accepted" ||
	{ echo "FAIL: login --password: no clear message:"; echo "$out" | head -3; fails=$((fails + 1)); }
# spelled in full, the argument of a password option is still never echoed
silent "$BLUETTI" login --email a@example.com --password-file "$SECRET"
# unknown options are named without their value
refused "$BLUETTI" login --pw="$SECRET"
refused "$BLUETTI" read --pw="$SECRET"
# connection options shared by bluetti and bluetti-sim (tools/common)
refused "$BLUETTI" read --cert-pass "$SECRET"
refused "$BLUETTI" read --password "$SECRET"
refused "$BLUETTI" set --password="$SECRET"
refused "$SIM" --broker localhost:1 --password "$SECRET"
refused "$SIM" --broker localhost:1 --cert-password "$SECRET"
refused "$SIM" --broker localhost:1 --pw="$SECRET"
refused "$SIM" --cloud --account-password "$SECRET"
refused "$SIM" --cloud --totp-key "$SECRET"
refused "$BRIDGE" --password="$SECRET"
refused "$BRIDGE" --pass "$SECRET"
silent "$SIM" --broker localhost:1 --password-file "$SECRET"
# harmless abbreviations keep working
"$BRIDGE" --vers >/dev/null 2>&1 || { echo "FAIL: bluetti-bridge --vers"; fails=$((fails + 1)); }
# and a value that merely looks like an option is not taken for one
"$BRIDGE" --config --password --check-config >/dev/null 2>"$tmp/err"
grep -qF "not accepted" "$tmp/err" &&
	{ echo "FAIL: the argument of --config was checked as an option"; fails=$((fails + 1)); }

if [ "$fails" -gt 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all secret-option checks passed"
