#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The webhook under abuse (tests/webhook/whabuse): malformed and oversized
# requests, slow clients, certificate rotations under load, and a drain on
# SIGTERM. The webhook must answer everything well-formed, stay healthy and
# keep its memory.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup robust
    ABUSE="${ZL_WHABUSE_BIN:-$ZL_REPO/build/tests/webhook/whabuse}"
    URL="https://127.0.0.1:$(wh_tls_port webhook)"
}

teardown() {
    e2e_alive drain && { e2e_stop drain >/dev/null || true; }
    e2e_teardown
}

# rss_kib NAME: the process's VmRSS.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$E2E_DIR/$1.pid")/status"; }

# new_serving_cert DIR: a new serving certificate from the suite's CA into
# DIR/tls.crt and DIR/tls.key, each replaced by a rename (never half
# written); prints its serial.
new_serving_cert() {
    local dir=$1 tmp
    tmp=$(mktemp -d "$dir/.new.XXXXXX")
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/tls.key" \
        -out "$tmp/tls.csr" -subj /CN=127.0.0.1 2>/dev/null
    openssl x509 -req -in "$tmp/tls.csr" -CA "$WH_TLS/ca.crt" -CAkey "$WH_TLS/ca.key" \
        -CAcreateserial -out "$tmp/tls.crt" -days 1 -extfile "$WH_TLS/ext.cnf" 2>/dev/null
    mv "$tmp/tls.key" "$dir/tls.key"
    mv "$tmp/tls.crt" "$dir/tls.crt"
    openssl x509 -in "$dir/tls.crt" -noout -serial | cut -d= -f2
    rm -rf "$tmp"
}

# served_serial PORT: the serial of the certificate served on PORT.
served_serial() {
    openssl s_client -connect "127.0.0.1:$1" -servername 127.0.0.1 </dev/null 2>/dev/null |
        openssl x509 -noout -serial | cut -d= -f2
}

@test "10,000 malformed, truncated, nested and oversized requests: all answered well-formed, healthy, no RSS growth" {
    run "$ABUSE" "$URL" "$WH_TLS/ca.crt" malformed 1000
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    local before after
    before=$(rss_kib webhook)
    run "$ABUSE" "$URL" "$WH_TLS/ca.crt" malformed 10000
    echo "$output"
    [ "$status" -eq 0 ]
    after=$(rss_kib webhook)
    echo "RSS before $before KiB, after $after KiB"
    [ "$after" -le $((before + 1024)) ]
    wh_ready webhook
}

@test "slow clients are cut off by the timeout and do not block others" {
    run "$ABUSE" "$URL" "$WH_TLS/ca.crt" slowloris 15
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "20 certificate rotations during a load run lose no request" {
    local dir="$E2E_DIR/rot" port reloads0 reloads1 serial
    mkdir -p "$dir"
    new_serving_cert "$dir" >/dev/null
    WH_CERT_DIR=$dir wh_start drain
    wait_for 30 wh_ready drain
    port=$(wh_tls_port drain)
    reloads0=$(ctl_metric drain zen_lead_webhook_tls_reloads_total result=success)
    "$ABUSE" "https://127.0.0.1:$port" "$WH_TLS/ca.crt" load 30 >"$E2E_DIR/rot-load.out" 2>&1 &
    local load=$!
    for i in $(seq 20); do
        sleep 1.2
        serial=$(new_serving_cert "$dir")
    done
    local rc=0
    wait "$load" || rc=$?
    cat "$E2E_DIR/rot-load.out"
    [ "$rc" -eq 0 ]
    wait_for 5 k8s_eq "$serial" served_serial "$port"
    reloads1=$(ctl_metric drain zen_lead_webhook_tls_reloads_total result=success)
    echo "reloads: $reloads0 -> $reloads1"
    [ "$reloads1" -ge $((reloads0 + 20)) ]
}

@test "SIGTERM drains the requests in flight and exits 0" {
    local port
    wh_start drain
    wait_for 30 wh_ready drain
    port=$(wh_tls_port drain)
    "$ABUSE" "https://127.0.0.1:$port" "$WH_TLS/ca.crt" load 20 --allow-refused >"$E2E_DIR/drain-load.out" 2>&1 &
    local load=$!
    sleep 2
    e2e_kill drain TERM
    [ "$(e2e_wait_exit drain 15)" = 0 ]
    local rc=0
    wait "$load" || rc=$?
    cat "$E2E_DIR/drain-load.out"
    [ "$rc" -eq 0 ]
    grep -q ' 0 bad' "$E2E_DIR/drain-load.out"
}
