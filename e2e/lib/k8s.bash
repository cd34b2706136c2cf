# SPDX-License-Identifier: Apache-2.0
# Helpers for shell tests against the kubelet-less test cluster
# (e2e/cluster/up). Source it from bash or bats:
#     . "$ZL_REPO/e2e/lib/k8s.bash"
# It sources env.sh (PATH with the cluster's kubectl, KUBECONFIG admin) and
# needs jq. Nothing runs in this cluster: pods are API objects whose status
# the helpers below write the way a kubelet would. Every helper fails
# (non-zero) when the API rejects the request.
#
# Addresses: use k8s_ipv4 / k8s_ipv6 (10.244.x.y, fd00:10:244::x), which
# EndpointSlice validation accepts; loopback and link-local are rejected.

# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# k8s_now: RFC 3339 UTC timestamp (second precision, as the API stores it).
k8s_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# k8s_ipv4 N / k8s_ipv6 N: the N-th (N >= 0) test pod address.
k8s_ipv4() { printf '10.244.%d.%d\n' $(($1 / 250)) $(($1 % 250 + 1)); }
k8s_ipv6() { printf 'fd00:10:244::%x\n' $(($1 + 1)); }

# k8s_new_namespace PREFIX: creates a fresh namespace PREFIX-<random> and
# prints its name.
k8s_new_namespace() {
    local ns
    ns="$1-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    kubectl create namespace "$ns" >/dev/null || return 1
    printf '%s\n' "$ns"
}

# k8s_delete_namespace NS: starts deletion, does not wait.
k8s_delete_namespace() {
    kubectl delete namespace "$1" --wait=false --ignore-not-found >/dev/null
}

# k8s_create_node NAME [ZONE]: creates (or updates) a Node object with a
# Ready condition. Pods must name an existing Node in spec.nodeName: the
# EndpointSlice controller leaves pods on unknown nodes out of slices.
k8s_create_node() {
    local name=$1 zone=${2:-}
    jq -n --arg name "$name" --arg zone "$zone" '{
        apiVersion: "v1", kind: "Node",
        metadata: {name: $name, labels: ({"kubernetes.io/hostname": $name,
            "kubernetes.io/os": "linux"} + (if $zone == "" then {} else
            {"topology.kubernetes.io/zone": $zone} end))}
    }' | kubectl apply -f - >/dev/null || return 1
    k8s_set_node_ready "$name" true
}

# k8s_set_node_ready NAME true|false: writes the Node's Ready condition.
k8s_set_node_ready() {
    local status=True
    [ "$2" = true ] || status=False
    kubectl patch node "$1" --subresource=status --type=merge -p "$(jq -nc \
        --arg s "$status" --arg t "$(k8s_now)" '{status: {conditions: [{type: "Ready",
        status: $s, reason: "ZlTest", lastHeartbeatTime: $t, lastTransitionTime: $t}]}}')" >/dev/null
}

# k8s_create_pods NS PREFIX COUNT LABELS NODE [PORT...]
#   Creates pods PREFIX-0 .. PREFIX-(COUNT-1) with labels LABELS
#   ("k=v,k2=v2"), bound to NODE (spec.nodeName), one container "app" with
#   the given ports: NAME:PORT[/PROTOCOL] or PORT[/PROTOCOL] (TCP default).
#   Pods start Pending, not Ready, without IPs.
k8s_create_pods() {
    local ns=$1 prefix=$2 count=$3 labels=$4 node=$5
    shift 5
    local ports="[]" p name num proto
    for p in "$@"; do
        name="" proto=TCP
        case "$p" in *:*) name=${p%%:*} p=${p#*:} ;; esac
        case "$p" in */*) proto=${p#*/} p=${p%%/*} ;; esac
        num=$p
        ports=$(jq -c --arg n "$name" --argjson port "$num" --arg proto "$proto" \
            '. + [{containerPort: $port, protocol: $proto} + (if $n == "" then {} else {name: $n} end)]' <<<"$ports")
    done
    local lbl
    lbl=$(jq -nc --arg l "$labels" '$l | split(",") | map(select(. != "") | split("=") |
        {key: .[0], value: (.[1:] | join("="))}) | from_entries')
    jq -n --arg prefix "$prefix" --argjson count "$count" --argjson labels "$lbl" \
        --arg node "$node" --argjson ports "$ports" '{
        apiVersion: "v1", kind: "List",
        items: [range(0; $count) | {
            apiVersion: "v1", kind: "Pod",
            metadata: {name: "\($prefix)-\(.)", labels: $labels},
            spec: {nodeName: $node, terminationGracePeriodSeconds: 30,
                containers: [{name: "app", image: "zl-test.invalid/app:0", ports: $ports}]}
        }]
    }' | kubectl -n "$ns" create -f - >/dev/null
}

# k8s_set_pod_ready NS POD true|false
#   As a kubelet would: phase Running, Ready and ContainersReady conditions
#   with lastTransitionTime now. Leaves IPs as they are.
k8s_set_pod_ready() {
    local status=True
    [ "$3" = true ] || status=False
    kubectl -n "$1" patch pod "$2" --subresource=status --type=merge -p "$(jq -nc \
        --arg s "$status" --arg t "$(k8s_now)" '{status: {phase: "Running", conditions: [
            {type: "PodScheduled", status: "True", lastTransitionTime: $t},
            {type: "Initialized", status: "True", lastTransitionTime: $t},
            {type: "ContainersReady", status: $s, lastTransitionTime: $t},
            {type: "Ready", status: $s, lastTransitionTime: $t}]}}')" >/dev/null
}

# k8s_set_pod_ips NS POD [IP...]
#   Sets status.podIP/podIPs to the given addresses (one per family, the
#   first is the primary); with no IP, clears them.
k8s_set_pod_ips() {
    local ns=$1 pod=$2
    shift 2
    local patch
    if [ $# -eq 0 ]; then
        patch='{"status":{"podIP":null,"podIPs":null}}'
    else
        patch=$(jq -nc --args '{status: {podIP: $ARGS.positional[0],
            podIPs: [$ARGS.positional[] | {ip: .}]}}' "$@")
    fi
    kubectl -n "$ns" patch pod "$pod" --subresource=status --type=merge -p "$patch" >/dev/null
}

# k8s_start_termination NS POD: graceful delete. With spec.nodeName set and
# no kubelet to confirm, the pod stays with a deletionTimestamp.
k8s_start_termination() {
    kubectl -n "$1" delete pod "$2" --wait=false >/dev/null
}

# k8s_force_delete NS POD: immediate removal (grace period 0).
k8s_force_delete() {
    kubectl -n "$1" delete pod "$2" --grace-period=0 --force --wait=false >/dev/null 2>&1
}

# k8s_slice_endpoint_ready NS SERVICE ADDRESS
#   Prints the ready condition (true/false) of the endpoint with ADDRESS in
#   the EndpointSlices of SERVICE (label kubernetes.io/service-name); fails
#   when no slice has that address.
k8s_slice_endpoint_ready() {
    local out
    out=$(kubectl -n "$1" get endpointslices -l "kubernetes.io/service-name=$2" -o json |
        jq -r --arg a "$3" '[.items[].endpoints // [] | .[] | select(.addresses | index($a))
            | .conditions.ready | tostring] | first // empty') || return 1
    [ -n "$out" ] || return 1
    printf '%s\n' "$out"
}

# wait_for TIMEOUT_SECONDS COMMAND [ARG...]
#   Runs COMMAND every ZL_WAIT_INTERVAL seconds (default 0.1) until it
#   succeeds; fails after TIMEOUT_SECONDS, printing the command and its
#   last output to stderr.
wait_for() {
    local timeout=$1
    shift
    local deadline out
    deadline=$(($(date +%s%N) + timeout * 1000000000))
    while :; do
        if out=$("$@" 2>&1); then
            return 0
        fi
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            printf 'wait_for: timed out after %ss: %s\n  last output: %s\n' "$timeout" "$*" "$out" >&2
            return 1
        fi
        sleep "${ZL_WAIT_INTERVAL:-0.1}"
    done
}

# k8s_eq EXPECTED COMMAND [ARG...]: succeeds when COMMAND prints exactly
# EXPECTED (for use with wait_for).
k8s_eq() {
    local want=$1 got
    shift
    got=$("$@") || return 1
    [ "$got" = "$want" ] || { printf 'want %q, got %q\n' "$want" "$got"; return 1; }
}
