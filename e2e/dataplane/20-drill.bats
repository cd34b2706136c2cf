#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kubectl zenlead drill through a real kube-proxy: run from the client
# namespace (the API server reached through a relay of its own), it deletes
# the leader of a 3-pod annotated Service, names the new leader within
# seconds and, probing the leader ClusterIP, sees the old and the new
# leader answer; it refuses a Service with one ready pod and a question
# it cannot ask, and forced on that one pod it times out; --watch-only
# times a delete made by someone else. The JSON is checked against
# docs/reference/kubectl-zenlead-drill.schema.json. Run
# through e2e/dataplane/run (cluster, controller, kube-proxy in network
# namespaces).

setup_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    PLUGIN=${ZL_PLUGIN_BIN:-$ZL_REPO/build/plugin/kubectl-zenlead}
    [ -x "$PLUGIN" ] || { dp_log "no plugin binary at $PLUGIN (make build)"; return 1; }
    python3 -c 'import jsonschema' 2>/dev/null ||
        { dp_log "python3 with jsonschema is needed (scripts/deps installs it)"; return 1; }
    NS=$(k8s_new_namespace drill)
    export NS PLUGIN
    printf '%s\n' "$NS" >>"$DP_DIR/namespaces"
    dp_client_api "$DP_DIR/drill.kubeconfig" drill-relay
    kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    zen-lead.io/enabled: "true"
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: solo
  annotations:
    zen-lead.io/enabled: "true"
spec:
  selector: {app: solo}
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
YAML
    local i
    for i in 0 1 2; do
        dp_add_pod "$NS" "web-$i" app=web
    done
    dp_add_pod "$NS" solo-0 app=solo
}

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_alive main || { e2e_log "the controller is not running"; tail -n 20 "$E2E_DIR/main.log" >&2; return 1; }
    e2e_alive kube-proxy || { e2e_log "kube-proxy is not running"; tail -n 20 "$E2E_DIR/kube-proxy.log" >&2; return 1; }
    e2e_alive drill-relay || { e2e_log "the client's API relay is not running"; return 1; }
    dp_flush_conntrack
}

teardown() {
    if [ "${BATS_TEST_COMPLETED:-}" != 1 ]; then
        e2e_dump "$NS" >&2
        printf -- '--- drill stderr\n' >&2
        cat "$BATS_TEST_TMPDIR/drill.err" >&2 2>/dev/null || true
        printf -- '--- kube-proxy (last 20 lines)\n' >&2
        tail -n 20 "$E2E_DIR/kube-proxy.log" >&2
    fi
}

# drill ARG...: the plugin in the client namespace, stdin not a terminal,
# stdout to $BATS_TEST_TMPDIR/drill.out and stderr to drill.err; returns
# its exit status.
drill() {
    dp_client env KUBECONFIG="$DP_DIR/drill.kubeconfig" "$PLUGIN" drill -n "$NS" "$@" \
        </dev/null >"$BATS_TEST_TMPDIR/drill.out" 2>"$BATS_TEST_TMPDIR/drill.err"
}

cluster_ip() { kubectl -n "$NS" get service "$1" -o jsonpath='{.spec.clusterIP}'; }

# leader_of SERVICE: the one Ready endpoint's pod of its leader slice.
leader_of() {
    kubectl -n "$NS" get endpointslice "$1-leader-ipv4" -o json |
        jq -er '.endpoints // [] | if length == 1 and .[0].conditions.ready
            then .[0].targetRef.name else error("not one ready endpoint: \(.)") end'
}

# deleting POD: the pod has a deletionTimestamp.
deleting() {
    [ -n "$(kubectl -n "$NS" get pod "$1" -o jsonpath='{.metadata.deletionTimestamp}')" ]
}

# not_deleting POD: the pod exists without a deletionTimestamp (a plain
# "! deleting" would not fail a test: errexit ignores negations).
not_deleting() {
    local ts
    ts=$(kubectl -n "$NS" get pod "$1" -o jsonpath='{.metadata.deletionTimestamp}') || return 1
    [ -z "$ts" ] || { echo "$1 is being deleted (since $ts)"; return 1; }
}

# out_jq FILTER: jq -e on the drill's JSON output.
out_jq() { jq -e "$1" "$BATS_TEST_TMPDIR/drill.out" >/dev/null; }

# out_schema: the drill's JSON output is valid against its schema.
out_schema() {
    python3 "$ZL_REPO/e2e/plugin/check-schema" \
        "$ZL_REPO/docs/reference/kubectl-zenlead-drill.schema.json" "$BATS_TEST_TMPDIR/drill.out"
}

@test "drill refuses a Service with one ready pod unless forced, and deletes nothing" {
    wait_for 20 leader_of solo
    rc=0
    drill solo --yes || rc=$?
    [ "$rc" = 1 ] || { echo "exit status $rc"; false; }
    grep -q 'fewer than 2 ready candidates' "$BATS_TEST_TMPDIR/drill.err"
    grep -q -- '--force' "$BATS_TEST_TMPDIR/drill.err"
    [ ! -s "$BATS_TEST_TMPDIR/drill.out" ]
    not_deleting solo-0
    [ "$(leader_of solo)" = solo-0 ]
}

@test "drill --force on one ready pod: no new leader, exit 1 at the timeout, the JSON says so" {
    rc=0
    drill solo --force --watch-only --timeout 1s -o json || rc=$?
    [ "$rc" = 1 ] || { echo "exit status $rc"; false; }
    grep -q 'forced: no other pod is ready' "$BATS_TEST_TMPDIR/drill.err"
    grep -q 'no new leader within 1000 ms' "$BATS_TEST_TMPDIR/drill.err"
    out_schema
    out_jq '.oldLeader == "solo-0" and .newLeader == null and .deleted == false'
    out_jq '.timeToNewLeaderMs == null and .oldEndpointRemovedMs == null and .probe == null'
    not_deleting solo-0
}

@test "drill without --yes refuses when stdin is not a terminal" {
    wait_for 20 leader_of web
    leader=$(leader_of web)
    rc=0
    drill web || rc=$?
    [ "$rc" = 1 ] || { echo "exit status $rc"; false; }
    grep -q 'stdin is not a terminal: pass --yes' "$BATS_TEST_TMPDIR/drill.err"
    not_deleting "$leader"
    [ "$(leader_of web)" = "$leader" ]
}

@test "drill deletes the leader: a new leader within seconds, the probe sees both answer" {
    old=$(leader_of web)
    lip=$(cluster_ip web-leader)
    dp_wait_answer 20 "$lip" 80 "$old"

    drill web --yes --probe "http://$lip:80/" --timeout 30s -o json
    cat "$BATS_TEST_TMPDIR/drill.out"
    out_schema
    out_jq ".service == \"web\" and .namespace == \"$NS\" and .deleted == true"
    out_jq ".oldLeader == \"$old\""
    new=$(jq -r .newLeader "$BATS_TEST_TMPDIR/drill.out")
    case "$new" in web-0 | web-1 | web-2) ;; *) echo "new leader '$new'"; false ;; esac
    [ "$new" != "$old" ]
    # Sane bounds on 2 shared cores: the controller reacts in milliseconds,
    # kube-proxy's minSyncPeriod (1 s) may hold the ClusterIP's switch.
    out_jq '.timeToNewLeaderMs >= 0 and .timeToNewLeaderMs < 5000'
    out_jq '.oldEndpointRemovedMs >= 0 and .oldEndpointRemovedMs <= .timeToNewLeaderMs'
    out_jq ".probe.requests > 0 and .probe.failures <= .probe.requests"
    out_jq ".probe.pods[\"$old\"] > 0 and .probe.pods[\"$new\"] > 0"
    out_jq '.probe.gapMs >= 0 and .probe.gapMs < 5000'
    out_jq '.probe.longestOutageMs >= 0'
    e2e_log "drill: $old -> $new: $(jq -c '{timeToNewLeaderMs, oldEndpointRemovedMs,
        probe: (.probe | {requests, failures, gapMs, longestOutageMs})}' \
        "$BATS_TEST_TMPDIR/drill.out")" 2>&3
    deleting "$old"
    [ "$(leader_of web)" = "$new" ]
    [ "$(dp_get "$lip" 80)" = "$new" ]
}

@test "drill --watch-only deletes nothing and times a delete made by someone else" {
    old=$(leader_of web)
    lip=$(cluster_ip web-leader)
    dp_wait_answer 20 "$lip" 80 "$old"
    rm -f "$BATS_TEST_TMPDIR/drill.rc"
    (
        rc=0
        drill web --watch-only --probe "http://$lip:80/" --timeout 30s -o json || rc=$?
        echo "$rc" >"$BATS_TEST_TMPDIR/drill.rc"
    ) 3>&- &
    bg=$!
    wait_for 10 grep -q 'watching' "$BATS_TEST_TMPDIR/drill.err"
    not_deleting "$old"
    kubectl -n "$NS" delete pod "$old" --wait=false >/dev/null
    wait_for 20 test -f "$BATS_TEST_TMPDIR/drill.rc"
    wait "$bg"
    cat "$BATS_TEST_TMPDIR/drill.out"
    [ "$(cat "$BATS_TEST_TMPDIR/drill.rc")" = 0 ]
    out_schema
    out_jq ".deleted == false and .oldLeader == \"$old\""
    new=$(jq -r .newLeader "$BATS_TEST_TMPDIR/drill.out")
    [ "$new" != "$old" ]
    [ "$new" != null ]
    out_jq ".probe.pods[\"$old\"] > 0 and .probe.pods[\"$new\"] > 0"
    out_jq '.timeToNewLeaderMs >= 0 and .timeToNewLeaderMs < 30000'
    [ "$(leader_of web)" = "$new" ]
}
