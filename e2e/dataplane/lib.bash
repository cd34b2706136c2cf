# SPDX-License-Identifier: Apache-2.0
# A real kube-proxy dataplane on one machine, in network namespaces, against
# the loopback cluster of $ZL_RUN_DIR (e2e/cluster/up). Sourced by
# e2e/dataplane/run and its .bats files; sources e2e/controller/lib.bash
# (kubectl, the k8s.bash pod helpers, e2e_bg/e2e_stop, ctl_start).
#
#   node ns    kube-proxy (nftables, or iptables), a bridge, the pods' veths,
#              the client's routed veth, a default route into a veth whose
#              peer is down (nothing leaves the machine)
#   pod ns     one per pod, zl-podsrv answering the pod's name on :8080
#   client ns  its own routed veth into the node, so replies cross the
#              node's conntrack
#   relay      a root-namespace process listening inside the node ns,
#              dialling the API server on root loopback
#
# Every name carries the run's id ZL_DP_ID (export it to share a topology
# between processes), so parallel runs never collide, and teardown removes
# only what this run recorded in $DP_DIR. The root namespace is snapshotted
# before setup and compared after teardown (dp_check_root).
#
# Env: ZL_DP_ID (default: random; 1-6 hex digits)  run id
#      ZL_DP_MODE (default nftables)  kube-proxy mode: nftables | iptables
#      ZL_DP_MIN_SYNC (default: kube-proxy's own, 1s)  its minSyncPeriod
#      ZL_PODSRV_BIN (default build/bench/zl-podsrv)  the pod server

# shellcheck source=../controller/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/../controller/lib.bash"

if [ -z "${ZL_DP_ID:-}" ]; then
    ZL_DP_ID=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
export ZL_DP_ID
DP_ID=$ZL_DP_ID
# Hex only, at most 6 digits: it goes into link names (15 characters at
# most) and MAC addresses.
if ! [[ $DP_ID =~ ^[0-9a-f]{1,6}$ ]]; then
    printf 'dataplane: ZL_DP_ID must be 1 to 6 hex digits, not "%s"\n' "$DP_ID" >&2
    return 1
fi
DP_DIR="$ZL_RUN_DIR/dataplane-$DP_ID"
# The controller helpers keep their process files here too.
E2E_DIR=$DP_DIR
E2E_SA_KUBECONFIG="$DP_DIR/controller.kubeconfig"
E2E_NODE="zldp-$DP_ID"
DP_NODE=$E2E_NODE
DP_NODE_NS="zldp-$DP_ID-node"
DP_CLIENT_NS="zldp-$DP_ID-client"
DP_MODE=${ZL_DP_MODE:-nftables}
DP_MIN_SYNC=${ZL_DP_MIN_SYNC:-}
DP_PODSRV=${ZL_PODSRV_BIN:-$ZL_REPO/build/bench/zl-podsrv}
DP_ZLC="$ZL_BIN_DIR/zl-cluster"
# Addresses: pods in 10.244.200.0/24 (other suites' API-only pods use low
# 10.244.x.y), the bridge (node IP) at .1, the client's link a /30 apart.
DP_NODE_IP=10.244.200.1
DP_CLIENT_NODE_IP=10.244.201.1
DP_CLIENT_IP=10.244.201.2
DP_POD_PORT=8080
# The relays' ports inside the node ns and the client ns (private to
# them, so fixed).
DP_RELAY_PORT=6443
DP_CLIENT_API_PORT=6443
# Links: at most 15 characters ("zp" + 6 + "-" + 3 digits = 12).
DP_BRIDGE="zb$DP_ID"
DP_SINK="zd$DP_ID"
DP_SINK_PEER="zs$DP_ID"
DP_CLIENT_LINK="zc$DP_ID"
DP_CLIENT_PEER="zk$DP_ID"

dp_log() { printf 'dataplane: %s\n' "$*" >&2; }

# dp_require: root, network namespaces and the tools; fails loudly.
dp_require() {
    local t
    if [ "$(id -u)" != 0 ]; then
        dp_log "needs root (network namespaces, veths, nftables): run as root; not skipping"
        return 1
    fi
    for t in ip nft iptables-save ip6tables-save curl jq setsid diff; do
        command -v "$t" >/dev/null || { dp_log "'$t' is needed (scripts/deps installs it)"; return 1; }
    done
    [ -x "$DP_PODSRV" ] || { dp_log "no pod server at $DP_PODSRV (make build)"; return 1; }
    [ -x "$DP_ZLC" ] || { dp_log "no harness binary at $DP_ZLC (e2e/cluster/up)"; return 1; }
}

# --- the root namespace, before and after ----------------------------------

# dp_snapshot FILE: the root namespace's links, addresses, routes, rules and
# packet-filter rules, with counters and address lifetimes stripped.
dp_snapshot() {
    {
        echo '### ip -d link'
        ip -d link
        echo '### ip addr'
        ip addr | sed '/valid_lft/d'
        echo '### ip route show table all'
        ip route show table all | sed -E 's/ expires [0-9]+sec//'
        echo '### ip -6 route show table all'
        ip -6 route show table all | sed -E 's/ expires [0-9]+sec//'
        echo '### ip rule'
        ip rule
        echo '### ip -6 rule'
        ip -6 rule
        echo '### nft list ruleset'
        nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
        echo '### iptables-save'
        iptables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[]/'
        echo '### ip6tables-save'
        ip6tables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[]/'
    } >"$1" 2>&1 || { dp_log "cannot snapshot the root namespace (see $1)"; return 1; }
}

# dp_check_root: the root namespace is exactly as dp_setup found it; else
# prints the difference and fails.
dp_check_root() {
    [ -f "$DP_DIR/root.before" ] || { dp_log "no snapshot of the root namespace in $DP_DIR"; return 1; }
    dp_snapshot "$DP_DIR/root.after" || return 1
    if ! diff -u "$DP_DIR/root.before" "$DP_DIR/root.after" >"$DP_DIR/root.diff"; then
        dp_log "the root namespace changed:"
        cat "$DP_DIR/root.diff" >&2
        return 1
    fi
    dp_log "root namespace unchanged (links, addresses, routes, rules, nft, iptables)"
}

# --- namespaces and links ----------------------------------------------------

# dp_netns_add NAME: a network namespace with loopback up, recorded for
# teardown.
dp_netns_add() {
    ip netns add "$1" || return 1
    printf '%s\n' "$1" >>"$DP_DIR/netns"
    ip -n "$1" link set lo up
}

# dp_in NS CMD [ARG...]: runs CMD in namespace NS.
dp_in() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# dp_mac N: a locally administered MAC address of this run.
dp_mac() {
    local id
    id=$(printf '%6s' "$DP_ID" | tr ' ' 0)
    printf '02:%s:%s:%s:00:%02x\n' "${id:0:2}" "${id:2:2}" "${id:4:2}" "$1"
}

# dp_node_links: the node's bridge, client link and drop sink.
dp_node_links() {
    local n=$DP_NODE_NS c=$DP_CLIENT_NS
    # A fixed address: else the bridge takes its lowest port's, which
    # changes as pods join, under the neighbours' caches.
    ip -n "$n" link add "$DP_BRIDGE" address "$(dp_mac 1)" type bridge &&
        ip -n "$n" addr add "$DP_NODE_IP/24" dev "$DP_BRIDGE" &&
        ip -n "$n" link set "$DP_BRIDGE" up || return 1
    ip -n "$n" link add "$DP_CLIENT_LINK" type veth peer name "$DP_CLIENT_PEER" netns "$c" &&
        ip -n "$n" addr add "$DP_CLIENT_NODE_IP/30" dev "$DP_CLIENT_LINK" &&
        ip -n "$n" link set "$DP_CLIENT_LINK" up &&
        ip -n "$c" addr add "$DP_CLIENT_IP/30" dev "$DP_CLIENT_PEER" &&
        ip -n "$c" link set "$DP_CLIENT_PEER" up &&
        ip -n "$c" route add default via "$DP_CLIENT_NODE_IP" || return 1
    # No uplink: a locally generated connect() needs a route before
    # kube-proxy's output DNAT runs, so a default into a dead end.
    ip -n "$n" link add "$DP_SINK" type veth peer name "$DP_SINK_PEER" &&
        ip -n "$n" link set "$DP_SINK" up &&
        ip -n "$n" route add default dev "$DP_SINK" || return 1
    dp_in "$n" sysctl -qw net.ipv4.ip_forward=1
}

# --- the relay and kube-proxy ------------------------------------------------

# dp_api_port: the API server's port in the admin kubeconfig.
dp_api_port() {
    sed -n 's#^ *server: https://127.0.0.1:\([0-9]*\)$#\1#p' "$ZL_RUN_DIR/kubeconfig" | head -n 1
}

# dp_start_relay: the relay, and kube-proxy's kubeconfig (the admin one with
# the relay's port; the API server's certificate names 127.0.0.1).
dp_start_relay() {
    local port
    port=$(dp_api_port)
    [ -n "$port" ] || { dp_log "no API server port in $ZL_RUN_DIR/kubeconfig"; return 1; }
    sed "s#server: https://127.0.0.1:$port\$#server: https://127.0.0.1:$DP_RELAY_PORT#" \
        "$ZL_RUN_DIR/kubeconfig" >"$DP_DIR/proxy.kubeconfig"
    rm -f "$DP_DIR/relay.ready"
    e2e_bg relay "$DP_ZLC" relay --netns "$DP_NODE_NS" --listen "127.0.0.1:$DP_RELAY_PORT" \
        --to "127.0.0.1:$port" --ready "$DP_DIR/relay.ready" || return 1
    wait_for 10 test -f "$DP_DIR/relay.ready"
}

# dp_proxy_config: kube-proxy's configuration file.
dp_proxy_config() {
    local sync=""
    [ -z "$DP_MIN_SYNC" ] || sync="
$DP_MODE:
  minSyncPeriod: $DP_MIN_SYNC"
    cat >"$DP_DIR/proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $DP_DIR/proxy.kubeconfig
mode: $DP_MODE
hostnameOverride: $DP_NODE
bindAddress: $DP_NODE_IP
clusterCIDR: 10.244.0.0/16
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  # nf_conntrack_max is not per namespace: leave it, and the timeouts.
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s$sync
EOF
}

# dp_proxy_healthy: kube-proxy's /healthz answers 200 (it has synced).
dp_proxy_healthy() {
    dp_in "$DP_NODE_NS" curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:10256/healthz
}

# dp_start_proxy: kube-proxy in the node ns, waited for until healthy.
dp_start_proxy() {
    dp_proxy_config
    e2e_bg kube-proxy ip netns exec "$DP_NODE_NS" "$DP_ZLC" proxy \
        --config "$DP_DIR/proxy.yaml" --v=2 || return 1
    local deadline=$((SECONDS + 60))
    until dp_proxy_healthy 2>/dev/null; do
        if ! e2e_alive kube-proxy || [ $SECONDS -ge $deadline ]; then
            dp_log "kube-proxy exited or is not healthy after 60 s:"
            tail -n 30 "$DP_DIR/kube-proxy.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# dp_create_node: the Node kube-proxy runs as: Ready, InternalIP the bridge.
dp_create_node() {
    printf '%s\n' "$DP_NODE" >"$DP_DIR/node"
    k8s_create_node "$DP_NODE" || return 1
    kubectl patch node "$DP_NODE" --subresource=status --type=merge -p "$(jq -nc \
        --arg ip "$DP_NODE_IP" --arg n "$DP_NODE" '{status: {addresses: [
            {type: "InternalIP", address: $ip}, {type: "Hostname", address: $n}]}}')" >/dev/null
}

# dp_setup: snapshot, namespaces, links, relay, Node, kube-proxy. On
# failure, what it made stays recorded for dp_teardown.
dp_setup() {
    mkdir -p "$DP_DIR"
    [ -f "$DP_DIR/root.before" ] || dp_snapshot "$DP_DIR/root.before"
    local t0=$SECONDS
    dp_netns_add "$DP_NODE_NS" && dp_netns_add "$DP_CLIENT_NS" && dp_node_links || return 1
    dp_start_relay && dp_create_node && dp_start_proxy || return 1
    dp_log "node $DP_NODE ($DP_NODE_NS, kube-proxy $DP_MODE${DP_MIN_SYNC:+ minSyncPeriod $DP_MIN_SYNC}) up in $((SECONDS - t0)) s"
}

# --- pods ---------------------------------------------------------------------

# dp_pod_index NS POD: the index dp_add_pod gave the pod.
dp_pod_index() {
    awk -v ns="$1" -v pod="$2" '$1 == ns && $2 == pod { print $3; exit }' "$DP_DIR/pods" 2>/dev/null
}

dp_pod_ip() { printf '10.244.200.%d\n' $((10 + $1)); }
dp_pod_ns() { printf 'zldp-%s-p%d\n' "$DP_ID" "$1"; }
dp_pod_link() { printf 'zp%s-%d\n' "$DP_ID" "$1"; }

# dp_pod_netns INDEX NAME: the pod's namespace, its veth on the bridge and
# zl-podsrv answering NAME, waited for from the node.
dp_pod_netns() {
    local i=$1 name=$2 pns ip
    pns=$(dp_pod_ns "$i")
    ip=$(dp_pod_ip "$i")
    dp_netns_add "$pns" || return 1
    ip -n "$DP_NODE_NS" link add "$(dp_pod_link "$i")" type veth peer name "ze$DP_ID" netns "$pns" &&
        ip -n "$DP_NODE_NS" link set "$(dp_pod_link "$i")" master "$DP_BRIDGE" up &&
        ip -n "$pns" addr add "$ip/24" dev "ze$DP_ID" &&
        ip -n "$pns" link set "ze$DP_ID" up &&
        ip -n "$pns" route add default via "$DP_NODE_IP" || return 1
    e2e_bg "podsrv-$i" ip netns exec "$pns" "$DP_PODSRV" --listen "0.0.0.0:$DP_POD_PORT" \
        --name "$name" || return 1
    wait_for 10 k8s_eq "$name" dp_in "$DP_NODE_NS" curl -sS --max-time 1 "http://$ip:$DP_POD_PORT/"
}

# dp_add_pod NS POD LABELS: a pod namespace running zl-podsrv, and a Pod
# object bound to the node (container port http 8080) whose status says,
# as a kubelet would, Running, Ready, with the namespace's address.
dp_add_pod() {
    local ns=$1 pod=$2 labels=$3 i
    i=0
    [ ! -f "$DP_DIR/pods" ] || i=$(wc -l <"$DP_DIR/pods")
    printf '%s %s %d\n' "$ns" "$pod" "$i" >>"$DP_DIR/pods"
    grep -qx "$ns" "$DP_DIR/namespaces" 2>/dev/null || printf '%s\n' "$ns" >>"$DP_DIR/namespaces"
    dp_pod_netns "$i" "$pod" || return 1
    dp_pod_object "$ns" "$pod" "$labels"
}

# dp_pod_object NS POD LABELS: the Pod object of a pod whose namespace
# dp_add_pod made (again, after a forced delete), bound to the node, status
# Running and Ready with the namespace's address.
dp_pod_object() {
    local ns=$1 pod=$2 labels=$3 i lbl
    i=$(dp_pod_index "$ns" "$pod")
    [ -n "$i" ] || { dp_log "no pod namespace for $ns/$pod"; return 1; }
    lbl=$(jq -nc --arg l "$labels" '$l | split(",") | map(select(. != "") | split("=") |
        {key: .[0], value: (.[1:] | join("="))}) | from_entries')
    jq -n --arg pod "$pod" --argjson labels "$lbl" --arg node "$DP_NODE" --argjson port "$DP_POD_PORT" '{
        apiVersion: "v1", kind: "Pod", metadata: {name: $pod, labels: $labels},
        spec: {nodeName: $node, terminationGracePeriodSeconds: 30,
            containers: [{name: "app", image: "zl-test.invalid/podsrv:0",
                ports: [{name: "http", containerPort: $port, protocol: "TCP"}]}]}
    }' | kubectl -n "$ns" create -f - >/dev/null || return 1
    pod_up "$ns" "$pod" "$i" "$(dp_pod_ip "$i")"
}

# dp_pod_link_set NS POD up|down: the pod's link on the bridge (down: its
# traffic is dropped, as for a crashed or partitioned pod).
dp_pod_link_set() {
    local i
    i=$(dp_pod_index "$1" "$2")
    [ -n "$i" ] || { dp_log "no pod $1/$2 in this dataplane"; return 1; }
    ip -n "$DP_NODE_NS" link set "$(dp_pod_link "$i")" "$3"
}

# --- the client -----------------------------------------------------------------

# dp_client CMD [ARG...]: runs CMD in the client namespace.
dp_client() { dp_in "$DP_CLIENT_NS" "$@"; }

# dp_client_api KUBECONFIG NAME: the API server inside the client namespace
# on 127.0.0.1:6443 (its certificate names that address) through a relay
# process NAME, and a kubeconfig for it at KUBECONFIG, for a kubectl or
# kubectl-zenlead run in that namespace.
dp_client_api() {
    local out=$1 name=$2 port
    port=$(dp_api_port)
    [ -n "$port" ] || { dp_log "no API server port in $ZL_RUN_DIR/kubeconfig"; return 1; }
    sed "s#server: https://127.0.0.1:$port\$#server: https://127.0.0.1:$DP_CLIENT_API_PORT#" \
        "$ZL_RUN_DIR/kubeconfig" >"$out"
    rm -f "$DP_DIR/$name.ready"
    e2e_bg "$name" "$DP_ZLC" relay --netns "$DP_CLIENT_NS" \
        --listen "127.0.0.1:$DP_CLIENT_API_PORT" --to "127.0.0.1:$port" \
        --ready "$DP_DIR/$name.ready" || return 1
    wait_for 10 test -f "$DP_DIR/$name.ready"
}

# dp_get IP [PORT]: one HTTP request on a new connection from the client
# (1 s timeout); prints the body (the answering pod's name).
dp_get() {
    dp_client curl -sS --max-time 1 "http://$1:${2:-80}/"
}

# dp_wait_answer SECONDS IP PORT [NAME]: polls from the client until IP:PORT
# answers (NAME, when given): kube-proxy has programmed the ClusterIP.
dp_wait_answer() {
    local timeout=$1 ip=$2 port=$3 want=${4:-}
    if [ -n "$want" ]; then
        ZL_WAIT_INTERVAL=0.02 wait_for "$timeout" k8s_eq "$want" dp_get "$ip" "$port"
    else
        ZL_WAIT_INTERVAL=0.05 wait_for "$timeout" dp_get "$ip" "$port"
    fi
}

# dp_flush_conntrack: empties the node's conntrack table (kube-proxy does
# not clear TCP entries; a reused source port would keep an old DNAT).
dp_flush_conntrack() {
    "$DP_ZLC" conntrack-flush --netns "$DP_NODE_NS"
}

# --- teardown -------------------------------------------------------------------

# dp_teardown: stops this run's processes by PID, deletes its namespaces
# (their links go with them), its Pods' namespaces and its Node. Safe to
# call after a setup that failed halfway, and twice.
dp_teardown() {
    local rc=0 ns
    [ -d "$DP_DIR" ] || return 0
    e2e_stop_all
    if [ -f "$DP_DIR/netns" ]; then
        while IFS= read -r ns; do
            [ -z "$ns" ] || [ ! -e "/run/netns/$ns" ] || ip netns del "$ns" || rc=1
        done <"$DP_DIR/netns"
        rm -f "$DP_DIR/netns"
    fi
    if [ -f "$DP_DIR/namespaces" ]; then
        while IFS= read -r ns; do
            [ -n "$ns" ] || continue
            kubectl -n "$ns" delete pods --all --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
            k8s_delete_namespace "$ns" || rc=1
        done <"$DP_DIR/namespaces"
        rm -f "$DP_DIR/namespaces" "$DP_DIR/pods"
    fi
    if [ -f "$DP_DIR/node" ]; then
        kubectl delete node "$(cat "$DP_DIR/node")" --ignore-not-found >/dev/null || rc=1
        rm -f "$DP_DIR/node"
    fi
    return $rc
}
