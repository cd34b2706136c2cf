# SPDX-License-Identifier: Apache-2.0
# Helpers of the webhook's end-to-end scenarios (e2e/webhook/*.bats): the
# webhook process under its ServiceAccount, its certificates, its
# registration with the API server, its metrics and audit log. Builds on
# e2e/controller/lib.bash (processes, the slice watcher, pods), which it
# sources; the controller runs beside the webhook as "main".

# shellcheck source=../controller/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/../controller/lib.bash"

WH_BIN="${ZL_WEBHOOK_BIN:-$ZL_REPO/build/webhook/zen-lead-webhook}"
WH_TLS="$E2E_DIR/tls"
WH_AUDIT="$E2E_DIR/audit.jsonl"
WH_SA_KUBECONFIG="$E2E_DIR/webhook.kubeconfig"
WH_CONFIGS="$ZL_REPO/deploy/webhook/webhook_configurations.yaml"

# wh_certs: a CA and a serving certificate for 127.0.0.1 (ECDSA P-256) in
# $WH_TLS: ca.crt, tls.crt, tls.key.
wh_certs() {
    mkdir -p "$WH_TLS"
    (
        cd "$WH_TLS"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.crt -days 2 -subj /CN=zen-lead-e2e-ca 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout tls.key -out tls.csr -subj /CN=127.0.0.1 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf
        openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out tls.crt -days 1 -extfile ext.cnf 2>/dev/null
    )
}

# wh_start NAME [FLAG...]: starts zen-lead-webhook as its ServiceAccount,
# TLS on a free port with the certificate of $WH_CERT_DIR (default
# $WH_TLS: tls.crt, tls.key), metrics and health on free loopback ports,
# the audit log to $WH_AUDIT; waits until /healthz answers (30 s).
wh_start() {
    local name=$1 certs=${WH_CERT_DIR:-$WH_TLS}
    shift
    local p m h
    p=$(e2e_free_port)
    m=$(e2e_free_port)
    h=$(e2e_free_port)
    printf '%s %s %s\n' "$m" "$h" "$p" >"$E2E_DIR/$name.ports"
    printf -- '--- %s start %s\n' "$(date -u +%H:%M:%S.%N)" "$*" >>"$E2E_DIR/$name.log"
    e2e_bg "$name" "$WH_BIN" --kubeconfig "$WH_SA_KUBECONFIG" --log-format json \
        --port "$p" --tls-cert-file "$certs/tls.crt" --tls-key-file "$certs/tls.key" \
        --controller-username "$WH_CONTROLLER_USER" --audit-log "$WH_AUDIT" \
        --metrics-bind-address "127.0.0.1:$m" --health-probe-bind-address "127.0.0.1:$h" "$@" ||
        return 1
    local deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$h/healthz" 2>/dev/null; do
        if ! e2e_alive "$name"; then
            e2e_log "webhook $name exited (status $(cat "$E2E_DIR/$name.rc" 2>/dev/null)):"
            tail -n 20 "$E2E_DIR/$name.log" >&2
            return 1
        fi
        [ $SECONDS -lt $deadline ] || { e2e_log "webhook $name: /healthz not answering after 30 s"; return 1; }
        sleep 0.05
    done
}

# wh_tls_port NAME: the webhook's TLS port.
wh_tls_port() {
    local m h p
    read -r m h p <"$E2E_DIR/$1.ports"
    printf '%s\n' "$p"
}

# wh_register NAME: applies deploy/webhook's configurations with the
# clientConfig turned into a URL on 127.0.0.1 (the API server runs on this
# host) and our CA as caBundle; everything else as shipped.
wh_register() {
    local port ca
    port=$(wh_tls_port "$1")
    ca=$(base64 -w0 <"$WH_TLS/ca.crt")
    kubectl create --dry-run=client -o json -f "$WH_CONFIGS" |
        jq --arg base "https://127.0.0.1:$port" --arg ca "$ca" '
            (if .kind == "List" then .items[] else . end)
            | .webhooks[].clientConfig |= {url: ($base + .service.path), caBundle: $ca}' |
        kubectl apply -f - >/dev/null
}

# wh_unregister: removes both configurations.
wh_unregister() {
    kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration \
        zen-lead-webhook --ignore-not-found >/dev/null
}

# wh_requests NAME [LABEL=VALUE...]: zen_lead_webhook_requests_total.
wh_requests() {
    local name=$1
    shift
    ctl_metric "$name" zen_lead_webhook_requests_total "$@"
}

# wh_audit_count: lines in the audit log.
wh_audit_count() { [ -f "$WH_AUDIT" ] && wc -l <"$WH_AUDIT" || echo 0; }

# wh_audit_since MARK: the audit lines after line MARK.
wh_audit_since() { tail -n +"$(($1 + 1))" "$WH_AUDIT"; }

# wh_ready NAME: /readyz answers 200 (certificate loaded, caches synced).
wh_ready() {
    local m h p
    read -r m h p <"$E2E_DIR/$1.ports"
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$h/readyz"
}
