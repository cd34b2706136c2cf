# SPDX-License-Identifier: Apache-2.0
# Helpers of the controller's end-to-end scenarios (e2e/controller/*.bats):
# controller processes under the suite's ServiceAccount, the slice watcher's
# record, Events and metrics. Sourced by e2e/controller/run and by every
# .bats file; sources e2e/lib/k8s.bash (kubectl, KUBECONFIG admin).
#
# Suite state lives in $E2E_DIR ($ZL_RUN_DIR/e2e): per process NAME,
# NAME.pid (the process), NAME.log (its output), NAME.rc (its exit status,
# written when it ends), NAME.ports (metrics and health ports).

# shellcheck source=../lib/k8s.bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib/k8s.bash"

E2E_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$ZL_RUN_DIR/e2e"
E2E_BIN="${ZL_CONTROLLER_BIN:-$ZL_REPO/build/controller/zen-lead-controller}"
E2E_SA_KUBECONFIG="$E2E_DIR/controller.kubeconfig"
E2E_SLICES="$E2E_DIR/slices.jsonl"
E2E_SYSTEM_NS=zen-lead-system
E2E_NODE=e2e-node
E2E_MANAGED='endpointslice.kubernetes.io/managed-by=zen-lead'

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

# e2e_now: epoch seconds with nanoseconds (same clock as jq's `now`).
e2e_now() { date +%s.%N; }

# e2e_add T SECONDS: T + SECONDS (epoch values, decimal).
e2e_add() { awk -v t="$1" -v s="$2" 'BEGIN { printf "%.9f\n", t + s }'; }

# e2e_sleep_until EPOCH: sleeps until that e2e_now value.
e2e_sleep_until() {
    local s
    s=$(awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { d = a - b; printf "%.3f\n", (d > 0 ? d : 0) }')
    sleep "$s"
}

# e2e_ms FROM TO: milliseconds between two e2e_now values (may be < 0).
e2e_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }

# e2e_ns SECONDS: SECONDS (decimal) in nanoseconds.
e2e_ns() { awk -v s="$1" 'BEGIN { printf "%.0f\n", s * 1e9 }'; }

# e2e_free_port: a loopback TCP port no socket uses, below the kernel's
# ephemeral range (so no outgoing connection takes it meanwhile).
e2e_free_port() {
    local port low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    [ "$low" -gt 11000 ] || low=32768
    while :; do
        port=$((10000 + RANDOM % (low - 10000)))
        ss -Htan "( sport = :$port )" | grep -q . || { printf '%s\n' "$port"; return 0; }
    done
}

# e2e_alive NAME: the process NAME runs.
e2e_alive() {
    local pid
    [ -f "$E2E_DIR/$1.pid" ] || return 1
    pid=$(cat "$E2E_DIR/$1.pid")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ ! -f "$E2E_DIR/$1.rc" ]
}

# e2e_bg NAME CMD [ARG...]: runs CMD in a session of its own (so none of our
# signals or file descriptors reach it), output to NAME.log. NAME.pid gets
# CMD's pid, NAME.pgid its process group, NAME.rc its exit status.
e2e_bg() {
    local name=$1
    shift
    mkdir -p "$E2E_DIR"
    rm -f "$E2E_DIR/$name.pid" "$E2E_DIR/$name.pgid" "$E2E_DIR/$name.rc"
    setsid bash -c 'dir=$1 name=$2; shift 2
        echo $$ >"$dir/$name.pgid"
        "$@" &
        echo $! >"$dir/$name.pid.tmp" && mv "$dir/$name.pid.tmp" "$dir/$name.pid"
        wait $!
        echo $? >"$dir/$name.rc"' e2e-bg "$E2E_DIR" "$name" "$@" \
        </dev/null >>"$E2E_DIR/$name.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    local deadline=$((SECONDS + 5))
    until [ -f "$E2E_DIR/$name.pid" ]; do
        [ $SECONDS -lt $deadline ] || { e2e_log "$name did not start"; return 1; }
        sleep 0.01
    done
}

# e2e_wait_exit NAME SECONDS: waits until NAME has ended and prints its exit
# status; fails when it still runs after SECONDS.
e2e_wait_exit() {
    local deadline
    deadline=$(($(date +%s%N) + $2 * 1000000000))
    until [ -f "$E2E_DIR/$1.rc" ]; do
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            e2e_log "$1 still runs $2 s after it was told to stop"
            return 1
        fi
        sleep 0.02
    done
    cat "$E2E_DIR/$1.rc"
}

# e2e_kill NAME SIGNAL: sends SIGNAL to NAME. Not running: succeeds.
e2e_kill() {
    e2e_alive "$1" || return 0
    kill "-$2" "$(cat "$E2E_DIR/$1.pid")" 2>/dev/null || true
}

# e2e_stop NAME: SIGTERM, SIGKILL after 15 s; prints the exit status and
# fails if it took SIGKILL. Then ends what is left of NAME's process group
# (children of a script). Not running: prints the status it ended with.
e2e_stop() {
    local rc=0
    if e2e_alive "$1"; then
        e2e_kill "$1" TERM
        if ! e2e_wait_exit "$1" 15; then
            e2e_kill "$1" KILL
            e2e_wait_exit "$1" 5
            rc=1
        fi
    elif [ -f "$E2E_DIR/$1.rc" ]; then
        cat "$E2E_DIR/$1.rc"
    fi
    [ -f "$E2E_DIR/$1.pgid" ] && kill -TERM -- "-$(cat "$E2E_DIR/$1.pgid")" 2>/dev/null
    return $rc
}

# ctl_identity: applies deploy/rbac/ and writes $E2E_SA_KUBECONFIG for the
# ServiceAccount it binds for the controller (the first whose name says
# controller), so the controller runs with exactly the permissions users
# give it.
ctl_identity() {
    local repo=$ZL_REPO rbac sa sa_ns sa_name
    [ -d "$repo/deploy/rbac" ] || { e2e_log "no deploy/rbac/ in $repo"; return 1; }
    rbac=(-f "$repo/deploy/rbac")
    [ -f "$repo/deploy/rbac/kustomization.yaml" ] && rbac=(-k "$repo/deploy/rbac")
    kubectl create namespace "$E2E_SYSTEM_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    kubectl apply "${rbac[@]}" >/dev/null || return 1
    sa=$(kubectl get "${rbac[@]}" -o json | jq -r '[.items[] | select(.kind == "ServiceAccount")
        | "\(.metadata.namespace // "default") \(.metadata.name)"] as $all
        | (($all | map(select(test("controller")))) + $all) | first // empty')
    [ -n "$sa" ] || { e2e_log "deploy/rbac/ has no ServiceAccount"; return 1; }
    read -r sa_ns sa_name <<<"$sa"
    e2e_log "controller runs as system:serviceaccount:$sa_ns:$sa_name"
    "$repo/e2e/cluster/sa-kubeconfig" "$sa_ns" "$sa_name" "$E2E_SA_KUBECONFIG"
}

# ctl_start NAME [FLAG...]: starts zen-lead-controller as the suite's
# ServiceAccount (JSON logs, metrics and health on free loopback ports, the
# given extra flags) and waits until /healthz answers 200 (30 s).
ctl_start() {
    local name=$1
    shift
    if e2e_alive "$name"; then
        e2e_log "controller $name already runs (pid $(cat "$E2E_DIR/$name.pid"))"
        return 1
    fi
    local m h
    m=$(e2e_free_port)
    h=$(e2e_free_port)
    while [ "$h" = "$m" ]; do h=$(e2e_free_port); done
    printf '%s %s\n' "$m" "$h" >"$E2E_DIR/$name.ports"
    printf -- '--- %s start %s\n' "$(date -u +%H:%M:%S.%N)" "$*" >>"$E2E_DIR/$name.log"
    e2e_bg "$name" "$E2E_BIN" --kubeconfig "$E2E_SA_KUBECONFIG" --log-format json \
        --metrics-bind-address "127.0.0.1:$m" --health-probe-bind-address "127.0.0.1:$h" "$@" ||
        return 1
    local deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$h/healthz" 2>/dev/null; do
        if ! e2e_alive "$name"; then
            e2e_log "controller $name exited (status $(cat "$E2E_DIR/$name.rc" 2>/dev/null)):"
            tail -n 20 "$E2E_DIR/$name.log" >&2
            return 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            e2e_log "controller $name: /healthz not answering after 30 s"
            tail -n 20 "$E2E_DIR/$name.log" >&2
            return 1
        fi
        sleep 0.05
    done
}

# ctl_port NAME metrics|health
ctl_port() {
    local m h
    read -r m h <"$E2E_DIR/$1.ports"
    if [ "$2" = metrics ]; then printf '%s\n' "$m"; else printf '%s\n' "$h"; fi
}

# ctl_ready NAME: /readyz answers 200 (caches synced).
ctl_ready() {
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$(ctl_port "$1" health)/readyz"
}

# ctl_wait_ready NAME [SECONDS]
ctl_wait_ready() {
    wait_for "${2:-30}" ctl_ready "$1"
}

# ctl_metrics NAME: the /metrics text.
ctl_metrics() {
    curl -fsS --max-time 2 "http://127.0.0.1:$(ctl_port "$1" metrics)/metrics"
}

# ctl_metric NAME METRIC [LABEL=VALUE...]: sum of the samples of METRIC
# that carry every LABEL="VALUE" (VALUE may be an ERE: verb=(PATCH|PUT));
# 0 when none does.
ctl_metric() {
    local text kv
    text=$(ctl_metrics "$1") || return 1
    text=$(grep -E "^$2(\{| )" <<<"$text") || { echo 0; return 0; }
    shift 2
    for kv in "$@"; do
        text=$(grep -E "[{,]${kv%%=*}=\"${kv#*=}\"[,}]" <<<"$text") || { echo 0; return 0; }
    done
    awk '{ s += $NF } END { printf "%g\n", s + 0 }' <<<"$text"
}

# ctl_log NAME: the process's log.
ctl_log() { cat "$E2E_DIR/$1.log"; }

# --- the slice watcher (e2e/controller/slice-watch) -----------------------

# watch_alive: the watcher runs.
watch_alive() { e2e_alive slice-watch; }

# watch_mark: the watcher's line count now (a test looks only after it).
watch_mark() { wc -l <"$E2E_SLICES"; }

# watch_since MARK [NS [SLICE]]: the watcher's lines after MARK, for NS and
# SLICE when given.
watch_since() {
    local lines
    lines=$(tail -n +"$(($1 + 1))" "$E2E_SLICES")
    if [ -n "${3:-}" ]; then
        grep -F "\"ns\":\"$2\",\"name\":\"$3\"," <<<"$lines" || true
    elif [ -n "${2:-}" ]; then
        grep -F "\"ns\":\"$2\"," <<<"$lines" || true
    else
        printf '%s\n' "$lines"
    fi
}

# slice_state NS SLICE: the slice as the watch shows it now: "gone" (never
# seen or deleted), "none" (no endpoint), else "POD READY" for its one
# endpoint, e.g. "web-0 true" ("POD READY POD2 READY2" if more).
slice_state() {
    local last
    last=$(grep -F "\"ns\":\"$1\",\"name\":\"$2\"," "$E2E_SLICES" | tail -n 1)
    if [ -z "$last" ]; then
        echo gone
        return 0
    fi
    jq -r 'if .type == "DELETED" then "gone" elif .n == 0 then "none"
        else [.eps[] | "\(.pod) \(.ready)"] | join(" ") end' <<<"$last"
}

# slice_record NS SLICE: the watch's last record of the slice (JSON).
slice_record() {
    grep -F "\"ns\":\"$1\",\"name\":\"$2\"," "$E2E_SLICES" | tail -n 1
}

# wait_slice NS SLICE WANT [SECONDS]: waits (default 10 s) until
# slice_state prints WANT. On timeout shows the slice's recent history, the
# object and the controller's log lines about the namespace.
wait_slice() {
    local ns=$1 slice=$2 want=$3 timeout=${4:-10}
    local deadline got
    deadline=$(($(date +%s%N) + $(e2e_ns "$timeout")))
    while :; do
        got=$(slice_state "$ns" "$slice")
        [ "$got" = "$want" ] && return 0
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            {
                printf 'wait_slice: %s/%s is "%s" after %s s, want "%s"\n' "$ns" "$slice" "$got" "$timeout" "$want"
                printf -- '--- watch history of %s/%s (last 8):\n' "$ns" "$slice"
                grep -F "\"ns\":\"$ns\",\"name\":\"$slice\"," "$E2E_SLICES" | tail -n 8
                e2e_dump "$ns"
            } >&2
            return 1
        fi
        sleep 0.02
    done
}

# hold_slice NS SLICE WANT SECONDS: slice_state stays WANT for SECONDS.
hold_slice() {
    local ns=$1 slice=$2 want=$3
    local deadline got
    deadline=$(($(date +%s%N) + $(e2e_ns "$4")))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        got=$(slice_state "$ns" "$slice")
        if [ "$got" != "$want" ]; then
            printf 'hold_slice: %s/%s became "%s", want it to stay "%s"\n' "$ns" "$slice" "$got" "$want" >&2
            grep -F "\"ns\":\"$ns\",\"name\":\"$slice\"," "$E2E_SLICES" | tail -n 8 >&2
            return 1
        fi
        sleep 0.05
    done
}

# first_time MARK NS SLICE JQ-CONDITION: receive time (epoch s) of the first
# record after MARK of that slice matching the condition; fails if none.
first_time() {
    local t
    t=$(watch_since "$1" "$2" "$3" | jq -r "select($4) | .t" | head -n 1)
    [ -n "$t" ] || { printf 'first_time: no record of %s/%s with %s\n' "$2" "$3" "$4" >&2; return 1; }
    printf '%s\n' "$t"
}

# e2e_check_slices MARK: fails when a managed slice anywhere held more than
# one endpoint after MARK, or when the watcher died.
e2e_check_slices() {
    local bad
    if ! watch_alive; then
        e2e_log "the slice watcher is not running: its record is incomplete"
        tail -n 5 "$E2E_SLICES.stderr" >&2 2>/dev/null
        return 1
    fi
    bad=$(watch_since "$1" | jq -c 'select((.n // 0) > 1)')
    if [ -n "$bad" ]; then
        e2e_log "a managed EndpointSlice held more than one endpoint:"
        printf '%s\n' "$bad" >&2
        return 1
    fi
    if watch_since "$1" | grep -q '"type":"GAP"'; then
        e2e_log "note: the slice watch lost history once (410 after an API server restart)"
    fi
}

# jq_ok JSON EXPR...: every jq EXPR is true of JSON; on failure names it
# and shows the document.
jq_ok() {
    local json=$1 e
    shift
    for e in "$@"; do
        if ! jq -e "$e" <<<"$json" >/dev/null 2>&1; then
            printf 'jq_ok: false: %s\nof:\n%s\n' "$e" "$(jq . <<<"$json" 2>&1 | head -n 80)" >&2
            return 1
        fi
    done
}

# --- objects ---------------------------------------------------------------

# pod_up NS POD N [IP...]: as a kubelet would, in one status write: the
# addresses (default: k8s_ipv4 N; the first is primary), phase Running,
# Ready since now.
pod_up() {
    local ns=$1 pod=$2 n=$3
    shift 3
    [ $# -gt 0 ] || set -- "$(k8s_ipv4 "$n")"
    kubectl -n "$ns" patch pod "$pod" --subresource=status --type=merge -p "$(jq -nc \
        --arg t "$(k8s_now)" --args '{status: {phase: "Running",
            podIP: $ARGS.positional[0], podIPs: [$ARGS.positional[] | {ip: .}],
            conditions: [{type: "PodScheduled", status: "True", lastTransitionTime: $t},
                {type: "Initialized", status: "True", lastTransitionTime: $t},
                {type: "ContainersReady", status: "True", lastTransitionTime: $t},
                {type: "Ready", status: "True", lastTransitionTime: $t}]}}' "$@")" >/dev/null
}

# pod_ready_at NS POD true|false EPOCH: as k8s_set_pod_ready, with the
# conditions' lastTransitionTime at EPOCH (whole seconds).
pod_ready_at() {
    local status=True t
    [ "$3" = true ] || status=False
    t=$(date -u -d "@$4" +%Y-%m-%dT%H:%M:%SZ)
    kubectl -n "$1" patch pod "$2" --subresource=status --type=merge -p "$(jq -nc \
        --arg s "$status" --arg t "$t" '{status: {phase: "Running", conditions: [
            {type: "PodScheduled", status: "True", lastTransitionTime: $t},
            {type: "Initialized", status: "True", lastTransitionTime: $t},
            {type: "ContainersReady", status: $s, lastTransitionTime: $t},
            {type: "Ready", status: $s, lastTransitionTime: $t}]}}')" >/dev/null
}

# pods_up NS PREFIX COUNT LABELS [PORT...]: k8s_create_pods on the suite's
# node, then pod_up each (PREFIX-i gets k8s_ipv4 i): PREFIX-0 first, so
# it is the first Ready one and leads, then the others at once.
pods_up() {
    local ns=$1 prefix=$2 count=$3 labels=$4 i rc=0
    shift 4
    k8s_create_pods "$ns" "$prefix" "$count" "$labels" "$E2E_NODE" "$@" || return 1
    pod_up "$ns" "$prefix-0" 0 || return 1
    local pids=()
    for ((i = 1; i < count; i++)); do
        pod_up "$ns" "$prefix-$i" "$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    return $rc
}

# decision NS SERVICE NEW FIELD: FIELD (reason, latency_ms, old) of the
# controllers' last decision log line for that Service naming NEW as the
# new leader.
decision() {
    cat "$E2E_DIR"/*.log | grep -F '"msg":"leader decision"' | grep -F "\"namespace\":\"$1\",\"service\":\"$2\"" |
        jq -r --arg n "$3" --arg f "$4" 'select(.new == $n) | .[$f]' | tail -n 1
}

# source_svc NS NAME [ANNOTATION=VALUE...]: applies an enabled source
# Service NAME (selector app=NAME, port http 80 -> named targetPort http,
# label team=a) with the extra annotations.
source_svc() {
    local ns=$1 name=$2
    shift 2
    local ann='{"zen-lead.io/enabled": "true"}' kv
    for kv in "$@"; do
        ann=$(jq -c --arg k "${kv%%=*}" --arg v "${kv#*=}" '. + {($k): $v}' <<<"$ann")
    done
    jq -n --arg name "$name" --argjson ann "$ann" '{apiVersion: "v1", kind: "Service",
        metadata: {name: $name, labels: {team: "a"}, annotations: $ann},
        spec: {selector: {app: $name}, ports: [{name: "http", port: 80,
            targetPort: "http", protocol: "TCP"}]}}' | kubectl -n "$ns" apply -f - >/dev/null
}

# ev_count NS OBJECT REASON: how many times zen-lead-controller reported
# REASON on the Service OBJECT (Event counts summed).
ev_count() {
    kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3" -o json |
        jq '[.items[] | select((.source.component // .reportingComponent) == "zen-lead-controller"
            and .involvedObject.kind == "Service") | (.series.count // .count // 1)] | add // 0'
}

# ev_messages NS OBJECT REASON: messages of those Events, one a line,
# prefixed with their type ("Warning: ...").
ev_messages() {
    kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3" -o json |
        jq -r '.items[] | select((.source.component // .reportingComponent) == "zen-lead-controller")
            | "\(.type): \(.message)"'
}

# ev_has NS OBJECT REASON TYPE [TEXT...]: an Event REASON of TYPE ("" for
# any) exists on OBJECT whose message holds every TEXT.
ev_has() {
    local ns=$1 obj=$2 reason=$3 type=$4 msgs line t ok
    shift 4
    msgs=$(ev_messages "$ns" "$obj" "$reason") || return 1
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        [ -z "$type" ] || [ "${line%%:*}" = "$type" ] || continue
        ok=1
        for t in "$@"; do
            case "$line" in *"$t"*) ;; *) ok=0 ;; esac
        done
        [ "$ok" = 1 ] && return 0
    done <<<"$msgs"
    printf 'no %s Event %s on %s/%s with [%s]; events there:\n%s\n' "$type" "$reason" "$ns" "$obj" "$*" \
        "$(kubectl -n "$ns" get events -o custom-columns=TYPE:.type,REASON:.reason,OBJ:.involvedObject.name,COUNT:.count,MSG:.message 2>&1)"
    return 1
}

# wait_event NS OBJECT REASON TYPE [TEXT...]: ev_has within 10 s.
wait_event() { wait_for 10 ev_has "$@"; }

# svc_ok NS NAME EXPR...: jq_ok on the Service as the API has it now (for
# wait_for).
svc_ok() {
    local ns=$1 name=$2
    shift 2
    jq_ok "$(svc_json "$ns" "$name")" "$@"
}

# svc_json NS NAME / slice_json NS NAME: the object as the API has it.
svc_json() { kubectl -n "$1" get service "$2" -o json; }
slice_json() { kubectl -n "$1" get endpointslice "$2" -o json; }

# gone NS KIND NAME: the object does not exist.
gone() {
    local out
    if out=$(kubectl -n "$1" get "$2" "$3" -o name 2>&1); then
        printf '%s %s/%s still exists\n' "$2" "$1" "$3"
        return 1
    fi
    case "$out" in *NotFound*|*"not found"*) return 0 ;; esac
    printf '%s\n' "$out"
    return 1
}

# e2e_dump NS: what a failing scenario shows: services, slices, pods and
# events of NS, and the controllers' log lines about NS.
e2e_dump() {
    local ns=$1 f
    printf -- '--- kubectl -n %s get services,endpointslices,pods -o wide\n' "$ns"
    kubectl -n "$ns" get services,endpointslices,pods -o wide 2>&1 | head -n 40
    printf -- '--- managed slices of %s\n' "$ns"
    kubectl -n "$ns" get endpointslices -l "$E2E_MANAGED" -o json 2>&1 |
        jq -c '.items[]? | {name: .metadata.name, rv: .metadata.resourceVersion, endpoints, ports}' 2>&1 | head -n 10
    printf -- '--- events of %s\n' "$ns"
    kubectl -n "$ns" get events --sort-by=.lastTimestamp \
        -o custom-columns=TYPE:.type,REASON:.reason,OBJ:.involvedObject.name,COUNT:.count,MSG:.message 2>&1 | tail -n 20
    for f in "$E2E_DIR"/*.log; do
        [ -f "$f" ] || continue
        case "$f" in */slice-watch.log) continue ;; esac
        printf -- '--- %s (lines about %s, last 15)\n' "$(basename "$f")" "$ns"
        grep -F "$ns" "$f" | tail -n 15
        printf -- '--- %s (last 5 lines)\n' "$(basename "$f")"
        tail -n 5 "$f"
    done
}

# e2e_setup PREFIX: the common start of a scenario: a fresh namespace in
# NS, the watcher's mark in MARK, the main controller running.
e2e_setup() {
    watch_alive || { e2e_log "the slice watcher is not running (start the suite with e2e/controller/run)"; return 1; }
    e2e_alive main || { e2e_log "the controller (main) is not running"; tail -n 20 "$E2E_DIR/main.log" >&2; return 1; }
    NS=$(k8s_new_namespace "$1") || return 1
    MARK=$(watch_mark)
}

# e2e_stop_all: stops every process of the suite (those with a NAME.pid).
e2e_stop_all() {
    local f name
    for f in "$E2E_DIR"/*.pid; do
        [ -f "$f" ] || continue
        name=$(basename "$f" .pid)
        if e2e_alive "$name"; then
            e2e_log "stopping $name: exit status $(e2e_stop "$name" || echo '(killed)')"
        fi
    done
}

# e2e_teardown: the common end: the one-endpoint check, a dump on failure,
# extra controllers stopped and the main one back if a scenario stopped it,
# the namespace deleted.
e2e_teardown() {
    local rc=0 name
    e2e_check_slices "$MARK" || rc=1
    if [ "${BATS_TEST_COMPLETED:-}" != 1 ] || [ $rc -ne 0 ]; then
        e2e_dump "$NS" >&2
    fi
    for name in ha-1 ha-2; do
        e2e_alive "$name" && { e2e_stop "$name" >/dev/null || true; }
    done
    if ! e2e_alive main; then
        { ctl_start main && ctl_wait_ready main; } || rc=1
    fi
    # No kubelet confirms graceful deletes: force them, or the namespace
    # never finishes deleting.
    kubectl -n "$NS" delete pods --all --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    k8s_delete_namespace "$NS" || true
    return $rc
}
