# SPDX-License-Identifier: Apache-2.0
# Helpers of e2e/certmanager/*.bats: the overlay's certificate objects, the
# webhook configurations left to the cainjector, the Secret and the served
# certificate. Builds on e2e/webhook/lib.bash, which it sources.

# shellcheck source=../webhook/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/../webhook/lib.bash"

CM_NS=zen-lead-system
CM_SECRET=zen-lead-webhook-tls
CM_CERT=zen-lead-webhook
CM_DIR="$E2E_DIR/projected"
CM_OVERLAY="$ZL_REPO/deploy/overlays/cert-manager"

# cm_apply_certificates: the overlay's Issuers and Certificates, the serving
# one also for 127.0.0.1 and for 1 h (renewed by hand in the scenarios).
cm_apply_certificates() {
    kubectl create -k "$CM_OVERLAY" --dry-run=client -o json |
        jq --arg c "$CM_CERT" 'select(.kind == "Issuer" or .kind == "Certificate")
            | if .kind == "Certificate" and .metadata.name == $c
              then .spec.ipAddresses = ["127.0.0.1"] | .spec.duration = "1h" | .spec.renewBefore = "20m"
              else . end' |
        kubectl apply -f - >/dev/null
}

# cm_register: deploy/webhook's configurations, clientConfig a URL on the
# webhook's port, with the overlay's inject-ca-from annotation and no
# caBundle.
cm_register() {
    local port ann
    port=$(wh_tls_port webhook)
    ann=$(sed -n 's/^ *cert-manager.io\/inject-ca-from: *//p' "$CM_OVERLAY/inject_ca.yaml")
    kubectl create --dry-run=client -o json -f "$WH_CONFIGS" |
        jq --arg base "https://127.0.0.1:$port" --arg ann "$ann" '
            (if .kind == "List" then .items[] else . end)
            | .metadata.annotations["cert-manager.io/inject-ca-from"] = $ann
            | .webhooks[].clientConfig |= {url: ($base + .service.path)}' |
        kubectl apply -f - >/dev/null
}

# cm_secret_serial: the serial (hex, upper case) of the Secret's tls.crt.
cm_secret_serial() {
    kubectl -n "$CM_NS" get secret "$CM_SECRET" -o jsonpath='{.data.tls\.crt}' | base64 -d |
        openssl x509 -noout -serial | cut -d= -f2
}

# cm_served_serial: the serial of the certificate the webhook serves.
cm_served_serial() {
    openssl s_client -connect "127.0.0.1:$(wh_tls_port webhook)" -servername 127.0.0.1 </dev/null 2>/dev/null |
        openssl x509 -noout -serial | cut -d= -f2
}

# cm_renew: what `cmctl renew` does: the Issuing condition, reason
# ManuallyTriggered, added through the status subresource.
cm_renew() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    kubectl -n "$CM_NS" patch certificate "$CM_CERT" --subresource=status --type=json -p \
        "[{\"op\": \"add\", \"path\": \"/status/conditions/-\", \"value\": {\"type\": \"Issuing\", \"status\": \"True\", \"reason\": \"ManuallyTriggered\", \"message\": \"renewal requested by the e2e scenario\", \"lastTransitionTime\": \"$now\"}}]" \
        >/dev/null
}

# cm_ca_bundle: the caBundle of the validating configuration's first webhook.
cm_ca_bundle() {
    kubectl get validatingwebhookconfiguration zen-lead-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}'
}

cm_serial_is_not() { [ "$(cm_secret_serial)" != "$1" ]; }
cm_serves() { [ "$(cm_served_serial)" = "$1" ]; }
cm_injected() { [ -n "$(cm_ca_bundle)" ]; }
