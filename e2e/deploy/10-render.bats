#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# What deploy/ renders to (kustomize of the cluster's kubectl, helm
# template) holds what SPEC sections 7 to 9 ask for, and the Helm chart
# ships the same objects as the kustomizations. Run via e2e/deploy/run.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
}

# rendered NAME: JSON array of a kustomization (k:DIR) or a chart mode
# (h:MODE), rendered once per file.
rendered() {
    local f="$BATS_FILE_TMPDIR/${1//[:\/]/_}.json"
    if ! [ -s "$f" ]; then
        case $1 in
            k:*) render_kustomize "${1#k:}" | yaml2json >"$f.new" ;;
            h:*) render_helm "${1#h:}" | yaml2json >"$f.new" ;;
        esac
        mv "$f.new" "$f"
    fi
    cat "$f"
}

INSTALLS=(k:overlays/cert-manager k:overlays/self-managed h:cert-manager h:self-managed)

@test "every kustomization under deploy/ is one this suite applies" {
    local found want
    found=$(cd "$ZL_REPO/deploy" && find . -name kustomization.yaml -printf '%h\n' | sed 's|^\./||' | sort)
    want=$(printf '%s\n' "${KUSTOMIZATIONS[@]}" | sort)
    [ "$found" = "$want" ] || { echo "found: $found"; echo "tested: $want"; false; }
}

@test "each kustomization renders with kubectl kustomize" {
    local k
    for k in "${KUSTOMIZATIONS[@]}"; do
        render_kustomize "$k" | yaml2json | jq -e 'length > 0' >/dev/null || { echo "deploy/$k"; false; }
    done
}

@test "helm lint --strict passes in both certificate modes with all monitoring on" {
    local mode
    for mode in cert-manager self-managed; do
        run zl_helm lint --strict "$CHART" --set certificates.mode="$mode" \
            --set monitoring.serviceMonitor.enabled=true \
            --set monitoring.prometheusRule.enabled=true --set monitoring.dashboard.enabled=true
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"1 chart(s) linted, 0 chart(s) failed"* ]]
    done
}

@test "helm refuses an unknown certificate mode with a clear message" {
    run render_helm bogus
    [ "$status" -ne 0 ]
    [[ "$output" == *"certificates.mode must be cert-manager or self-managed"* ]]
}

@test "both Deployments: 2 replicas, probes on the health port, resources, spread over nodes" {
    local i objs
    for i in k:base "${INSTALLS[@]}"; do
        objs=$(rendered "$i")
        echo "$objs" | jq -e '[.[] | select(.kind == "Deployment")] | length == 2' >/dev/null || { echo "$i"; false; }
        echo "$objs" | jq -e '.[] | select(.kind == "Deployment") | .spec.replicas == 2 and
            (.spec.template.spec.containers[0] |
                .readinessProbe.httpGet.path == "/readyz" and .readinessProbe.httpGet.port == "health" and
                .livenessProbe.httpGet.path == "/healthz" and .livenessProbe.httpGet.port == "health" and
                (.ports[] | select(.name == "health") | .containerPort == 8081) and
                .resources.requests.cpu != null and .resources.limits.memory != null) and
            (.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm |
                .topologyKey == "kubernetes.io/hostname" and
                .labelSelector.matchLabels == ({"app.kubernetes.io/name": "zen-lead"} +
                    {"app.kubernetes.io/component": (.labelSelector.matchLabels["app.kubernetes.io/component"])})) and
            (.spec.template.metadata.labels["app.kubernetes.io/name"] == "zen-lead")' >/dev/null ||
            { echo "$i: a Deployment lacks replicas, probes, resources or spread"; false; }
        echo "$objs" | jq -e '.[] | select(.kind == "Deployment" and .metadata.name == "zen-lead-controller") |
            .spec.template.spec.containers[0].args | index("--leader-elect") != null' >/dev/null ||
            { echo "$i: the controller runs without --leader-elect"; false; }
        echo "$objs" | jq -e '[.[] | select(.kind == "PodDisruptionBudget") | .spec.selector.matchLabels["app.kubernetes.io/component"]] | sort == ["controller", "webhook"]' >/dev/null ||
            { echo "$i: a PodDisruptionBudget is missing"; false; }
    done
}

@test "every pod runs as SPEC section 9 says: non-root, read-only root, no capabilities, RuntimeDefault" {
    local i bad
    for i in k:base "${INSTALLS[@]}"; do
        bad=$(rendered "$i" | pod_specs | jq -c 'select(
            (.spec.securityContext.runAsNonRoot != true) or
            (.spec.securityContext.seccompProfile.type != "RuntimeDefault") or
            ([(.spec.initContainers // [])[], .spec.containers[] | .securityContext |
                select(.readOnlyRootFilesystem != true or .allowPrivilegeEscalation != false or
                       .capabilities.drop != ["ALL"])] | length > 0)) | .name')
        [ -z "$bad" ] || { echo "$i: $bad"; false; }
    done
}

@test "Services: zen-lead-webhook 443 -> 9443 and zen-lead-metrics 8080 select the pods" {
    local i objs
    for i in k:base "${INSTALLS[@]}"; do
        objs=$(rendered "$i")
        echo "$objs" | jq -e --argjson dep "$(echo "$objs" | jq '[.[] | select(.kind == "Deployment" and .metadata.name == "zen-lead-webhook")][0]')" '
            .[] | select(.kind == "Service" and .metadata.name == "zen-lead-webhook") |
            .spec.ports == [{"name": "https", "port": 443, "targetPort": "webhook"}] and
            ($dep.spec.template.spec.containers[0].ports[] | select(.name == "webhook") | .containerPort == 9443) and
            (.spec.selector | to_entries | all(.value == $dep.spec.template.metadata.labels[.key]))' >/dev/null ||
            { echo "$i: zen-lead-webhook Service"; false; }
        echo "$objs" | jq -e '.[] | select(.kind == "Service" and .metadata.name == "zen-lead-metrics") |
            .spec.ports == [{"name": "metrics", "port": 8080, "targetPort": "metrics"}] and
            .spec.selector == {"app.kubernetes.io/name": "zen-lead"}' >/dev/null ||
            { echo "$i: zen-lead-metrics Service"; false; }
        echo "$objs" | jq -e '[.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].ports[] |
            select(.name == "metrics") | .containerPort] == [8080, 8080]' >/dev/null ||
            { echo "$i: a daemon does not name its metrics port"; false; }
    done
}

@test "webhook configurations: SPEC section 7 exclusions, Fail, matchConditions; the CA from cert-manager or the Job" {
    local i objs inject
    for i in "${INSTALLS[@]}"; do
        objs=$(rendered "$i")
        inject=null
        [[ "$i" == *cert-manager ]] && inject='"zen-lead-system/zen-lead-webhook"'
        echo "$objs" | jq -e --argjson inject "$inject" '
            [.[] | select(.kind | endswith("WebhookConfiguration"))] | length == 2 and all(
                .metadata.annotations["cert-manager.io/inject-ca-from"] == $inject and
                (.webhooks[] | .failurePolicy == "Fail" and .sideEffects == "None" and
                    .timeoutSeconds == 5 and .admissionReviewVersions == ["v1"] and
                    .clientConfig.service == {"name": "zen-lead-webhook", "namespace": "zen-lead-system",
                        "path": .clientConfig.service.path, "port": 443} and
                    .clientConfig.caBundle == null and
                    (.matchConditions | length == 2) and
                    (.matchConditions[1].expression | contains("system:serviceaccount:zen-lead-system:zen-lead-controller")) and
                    .namespaceSelector.matchExpressions == [{"key": "kubernetes.io/metadata.name",
                        "operator": "NotIn", "values": ["kube-system", "kube-node-lease", "zen-lead-system"]}]))' >/dev/null ||
            { echo "$i"; false; }
    done
}

@test "cert-manager: self-signed Issuer -> CA Certificate -> CA Issuer -> serving Certificate, mounted by the webhook" {
    local i objs
    for i in k:overlays/cert-manager h:cert-manager; do
        objs=$(rendered "$i")
        echo "$objs" | jq -e '
            (map(select(.kind == "Issuer" or .kind == "Certificate")) | INDEX(.kind + "/" + .metadata.name)) as $o |
            $o["Issuer/zen-lead-selfsigned"].spec.selfSigned == {} and
            ($o["Certificate/zen-lead-ca"].spec | .isCA == true and .issuerRef.name == "zen-lead-selfsigned" and .secretName == "zen-lead-ca") and
            $o["Issuer/zen-lead-ca"].spec.ca.secretName == "zen-lead-ca" and
            ($o["Certificate/zen-lead-webhook"].spec | .issuerRef.name == "zen-lead-ca" and .isCA != true and
                .secretName == "zen-lead-webhook-tls" and
                .dnsNames == ["zen-lead-webhook.zen-lead-system.svc", "zen-lead-webhook.zen-lead-system.svc.cluster.local"])' >/dev/null ||
            { echo "$i: the issuing chain"; false; }
        echo "$objs" | jq -e '.[] | select(.kind == "Deployment" and .metadata.name == "zen-lead-webhook") | .spec.template.spec |
            (.volumes[] | select(.name == "tls") | .secret.secretName == "zen-lead-webhook-tls") and
            (.containers[0] | (.volumeMounts[] | select(.name == "tls") | .mountPath == "/tls" and .readOnly == true and .subPath == null) and
                (.args | index("--tls-cert-file=/tls/tls.crt") != null and index("--tls-key-file=/tls/tls.key") != null))' >/dev/null ||
            { echo "$i: the webhook does not serve the Certificate's Secret"; false; }
        echo "$objs" | jq -e 'all(.[]; .kind != "Job")' >/dev/null
    done
}

@test "self-managed: the zen-lead-certs Job makes the CA, the serving pair and Secret, then the caBundle" {
    local i objs
    for i in k:overlays/self-managed h:self-managed; do
        objs=$(rendered "$i")
        echo "$objs" | jq -e 'all(.[]; .kind != "Certificate" and .kind != "Issuer")' >/dev/null
        echo "$objs" | jq -e '.[] | select(.kind == "Job" and .metadata.name == "zen-lead-certs-init") | .spec.template.spec |
            .serviceAccountName == "zen-lead-certs" and
            ([.initContainers[], .containers[] | .command[0]] | unique == ["zen-lead-certs"]) and
            ([.initContainers[], .containers[] | .args[0]] == ["ca", "serve", "secret", "patch-webhooks"]) and
            (.initContainers[1].args | index("--dns=zen-lead-webhook.zen-lead-system.svc") != null) and
            (.initContainers[2].args | index("--name=zen-lead-webhook-tls") != null) and
            (.containers[0].args | index("--validating=zen-lead-webhook") != null and index("--mutating=zen-lead-webhook") != null) and
            (.volumes[] | select(.name == "work") | .emptyDir.medium == "Memory")' >/dev/null ||
            { echo "$i"; false; }
    done
}

@test "every container runs the one image zen-lead:<the chart's appVersion>, pinned in kustomize as in helm" {
    local i version images
    version=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$CHART/Chart.yaml")
    [ -n "$version" ]
    for i in k:base "${INSTALLS[@]}"; do
        images=$(rendered "$i" | pod_specs | jq -r '.spec | (.initContainers // [])[], .containers[] | .image' | sort -u)
        [ "$images" = "zen-lead:$version" ] || { echo "$i: $images"; false; }
    done
}

# kinds_names: JSON array on stdin -> sorted "Kind/namespace/name" lines.
kinds_names() { jq -r '.[] | "\(.kind)/\(.metadata.namespace // "")/\(.metadata.name)"' | sort; }

@test "the Helm chart ships the objects of the kustomizations, with the same RBAC rules" {
    local mode k h hooks
    hooks='[.[] | select(.kind | endswith("WebhookConfiguration")) | {kind, webhooks} |
        .webhooks[].matchConditions[].expression |= gsub("\\s+"; " ")]'
    for mode in cert-manager self-managed; do
        k=$( (render_kustomize "overlays/$mode"; echo ---; render_kustomize monitoring) | yaml2json |
            jq '[.[] | select(.kind != "Namespace")]')
        h=$(render_helm "$mode" | yaml2json)
        diff <(echo "$k" | kinds_names) <(echo "$h" | kinds_names)
        diff <(echo "$k" | jq -S '[.[] | select(.kind | test("Role$")) | {kind, name: .metadata.name, rules}] | sort_by(.kind, .name)') \
            <(echo "$h" | jq -S '[.[] | select(.kind | test("Role$")) | {kind, name: .metadata.name, rules}] | sort_by(.kind, .name)')
        diff <(echo "$k" | jq -S '[.[] | select(.kind | test("Binding$")) | {kind, name: .metadata.name, roleRef, subjects}] | sort_by(.kind, .name)') \
            <(echo "$h" | jq -S '[.[] | select(.kind | test("Binding$")) | {kind, name: .metadata.name, roleRef, subjects}] | sort_by(.kind, .name)')
        # (CEL ignores white space; kustomize re-folds the expressions)
        diff <(echo "$k" | jq -S "$hooks") <(echo "$h" | jq -S "$hooks")
        diff <(echo "$k" | jq -S '[.[] | select(.kind == "Deployment" or .kind == "Job") | {kind, name: .metadata.name, c: [.spec.template.spec | (.initContainers // [])[], .containers[] | {args, ports, volumeMounts, securityContext}]}]') \
            <(echo "$h" | jq -S '[.[] | select(.kind == "Deployment" or .kind == "Job") | {kind, name: .metadata.name, c: [.spec.template.spec | (.initContainers // [])[], .containers[] | {args, ports, volumeMounts, securityContext}]}] |
                map(.c |= map(.args |= map(select(test("^--(leader-election-namespace|lease-duration|renew-deadline|retry-period|tls-min-version|named-port-policy|lookup-timeout|lookup-failure-policy|log-level|log-format)=") | not))))')
    done
}

@test "the chart's copies of the alert rules and the dashboard are deploy/monitoring's" {
    cmp "$ZL_REPO/deploy/monitoring/prometheus_rule.yaml" "$CHART/files/prometheus_rule.yaml"
    cmp "$ZL_REPO/deploy/monitoring/grafana_dashboard.json" "$CHART/files/grafana_dashboard.json"
}

@test "the alerts and the dashboard use only metrics docs/reference/metrics.md documents" {
    local documented used m
    documented=$(grep -o '`[a-z_]*`' "$ZL_REPO/docs/reference/metrics.md" | tr -d '`' | sort -u)
    used=$(cat "$ZL_REPO/deploy/monitoring/prometheus_rule.yaml" "$ZL_REPO/deploy/monitoring/grafana_dashboard.json" |
        grep -oE '\b(zen_lead|process)_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u)
    [ -n "$used" ]
    for m in $used; do
        grep -qx "$m" <<<"$documented" || { echo "undocumented metric: $m"; false; }
    done
}

@test "every alert and dashboard query parses with Prometheus's PromQL parser" {
    local exprs
    exprs=$(jq -n --slurpfile d "$ZL_REPO/deploy/monitoring/grafana_dashboard.json" \
        --argjson r "$(yaml2json <"$ZL_REPO/deploy/monitoring/prometheus_rule.yaml")" '
        [($r[0].spec.groups[].rules[] | {where: .alert, expr}),
         ($d[0].panels[] | .title as $t | .targets[] | {where: ($t + " " + .refId),
            expr: (.expr | gsub("\\$__rate_interval"; "5m") | gsub("\\$namespace"; "zen-lead-system"))})]')
    [ "$(echo "$exprs" | jq 'length')" -ge 20 ]
    echo "$exprs" | "$ZL_PROMQL_BIN"
    # and it does refuse a broken one
    run "$ZL_PROMQL_BIN" <<<'[{"where": "broken", "expr": "rate(zen_lead_failover_count_total)"}]'
    [ "$status" -eq 1 ]
    [[ "$output" == *'broken: 1:6: parse error: expected type range vector'* ]]
}

@test "the PrometheusRule alerts on endpoints, failovers, errors, certificate expiry and no leader" {
    local rule exprs
    rule=$(render_helm cert-manager | yaml2json | jq '.[] | select(.kind == "PrometheusRule")')
    exprs=$(echo "$rule" | jq -r '.spec.groups[].rules[].expr')
    for m in zen_lead_leader_service_without_endpoints zen_lead_failover_count_total \
        zen_lead_reconciliation_errors_total zen_lead_webhook_certificate_expiry_timestamp_seconds; do
        grep -q "$m" <<<"$exprs" || { echo "no alert on $m"; false; }
    done
    grep -qF '(sum(zen_lead_is_leader) or vector(0)) == 0' <<<"$exprs"
    echo "$rule" | jq -e '[.spec.groups[].rules[] | select((.alert | length) > 0 and .labels.severity != null and .annotations.summary != null)] | length == 6' >/dev/null
    # the dashboard is valid JSON with its panels' queries
    jq -e '.uid == "zen-lead" and (.panels | length >= 10) and all(.panels[]; (.targets | length) > 0)' \
        "$ZL_REPO/deploy/monitoring/grafana_dashboard.json" >/dev/null
}

@test "helm values: image, replicas, namespaces watched, flags, another release namespace" {
    local objs
    objs=$(zl_helm template zl "$CHART" --namespace ops --set image.repository=reg.example/zl --set image.tag=9.9 \
        --set controller.replicas=3 --set webhook.replicas=4 --set 'controller.namespaces={shop,pay}' \
        --set 'controller.extraArgs={--workers=8}' --set webhook.namedPortPolicy=warn \
        --set webhook.failurePolicy=Ignore --set certificates.mode=self-managed | yaml2json)
    echo "$objs" | jq -e '[.[] | select(.kind == "Deployment" or .kind == "Job") | .spec.template.spec |
        (.initContainers // [])[], .containers[] | .image] | unique == ["reg.example/zl:9.9"]' >/dev/null
    echo "$objs" | jq -e '.[] | select(.kind == "Deployment" and .metadata.name == "zen-lead-controller") |
        .spec.replicas == 3 and (.spec.template.spec.containers[0].args |
            index("--namespace=shop") != null and index("--namespace=pay") != null and
            index("--workers=8") != null and index("--leader-election-namespace=ops") != null)' >/dev/null
    echo "$objs" | jq -e '.[] | select(.kind == "Deployment" and .metadata.name == "zen-lead-webhook") |
        .spec.replicas == 4 and (.spec.template.spec.containers[0].args |
            index("--named-port-policy=warn") != null and
            index("--controller-username=system:serviceaccount:ops:zen-lead-controller") != null)' >/dev/null
    echo "$objs" | jq -e '[.[] | select(.kind | endswith("WebhookConfiguration")) | .webhooks[] |
        .failurePolicy == "Ignore" and .clientConfig.service.namespace == "ops" and
        .namespaceSelector.matchExpressions[0].values == ["kube-system", "kube-node-lease", "ops"] and
        (.matchConditions[1].expression | contains("system:serviceaccount:ops:zen-lead-controller"))] | all' >/dev/null
    echo "$objs" | jq -e '[.[] | select(.kind == "Job") | .spec.template.spec.initContainers[1].args[] | select(startswith("--dns="))] ==
        ["--dns=zen-lead-webhook.ops.svc", "--dns=zen-lead-webhook.ops.svc.cluster.local"]' >/dev/null
}

@test "monitoring.serviceMonitor scrapes zen-lead-metrics (no ServiceMonitor CRD here: checked as rendered)" {
    local objs
    objs=$(render_helm cert-manager --set monitoring.serviceMonitor.enabled=true | yaml2json)
    echo "$objs" | jq -e --argjson svc "$(echo "$objs" | jq '.[] | select(.kind == "Service" and .metadata.name == "zen-lead-metrics")')" '
        .[] | select(.kind == "ServiceMonitor") | .apiVersion == "monitoring.coreos.com/v1" and
        (.spec.selector.matchLabels | to_entries | all(.value == $svc.metadata.labels[.key])) and
        .spec.endpoints[0].port == $svc.spec.ports[0].name' >/dev/null
    render_helm cert-manager | yaml2json | jq -e 'all(.[]; .kind != "ServiceMonitor")' >/dev/null
}
