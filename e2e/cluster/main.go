// SPDX-License-Identifier: Apache-2.0

// Command zl-cluster is zen-lead's loopback Kubernetes control plane for
// tests, benchmarks and the demo. It is one binary so the large Kubernetes
// dependency graph is linked once:
//
//	zl-cluster run --dir D       supervisor: embedded etcd, then re-execs
//	                             itself as kube-apiserver and
//	                             kube-controller-manager; writes D/kubeconfig
//	zl-cluster apiserver ARGS    kube-apiserver (k8s.io/kubernetes/cmd/kube-apiserver)
//	zl-cluster kcm ARGS          kube-controller-manager
//	zl-cluster proxy ARGS        kube-proxy (k8s.io/kubernetes/cmd/kube-proxy),
//	                             for the network-namespace dataplane
//	zl-cluster relay --netns NS --listen A:P --to A:P
//	                             TCP relay: listens inside network namespace NS,
//	                             dials from the root namespace (kube-proxy in a
//	                             namespace reaching the API server on loopback)
//	zl-cluster conntrack-flush --netns NS
//	                             flush the IPv4 conntrack entries of NS via netlink
//	zl-cluster webhook ...       throwaway TLS admission webhook for smoke tests
//	kubectl ARGS                 (argv[0] == "kubectl", via symlink) kubectl
//
// apiserver and controller-manager run as child processes of the
// supervisor rather than goroutines: both register process-global state
// (feature gates, legacy metrics registry, klog flags), which is only safe
// once per process.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s run|apiserver|kcm|proxy|relay|conntrack-flush|kubectl|webhook [ARGS]\n", filepath.Base(os.Args[0]))
	os.Exit(2)
}

func main() {
	name := filepath.Base(os.Args[0])
	if strings.HasPrefix(name, "kubectl") {
		os.Exit(runKubectl(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		usage()
	}
	sub, rest := os.Args[1], os.Args[2:]
	switch sub {
	case "run":
		os.Exit(runSupervisor(rest))
	case "apiserver":
		os.Exit(runAPIServer(rest))
	case "kcm":
		os.Exit(runKCM(rest))
	case "proxy":
		os.Exit(runProxy(rest))
	case "relay":
		os.Exit(runRelay(rest))
	case "conntrack-flush":
		os.Exit(runConntrackFlush(rest))
	case "kubectl":
		os.Exit(runKubectl(rest))
	case "webhook":
		os.Exit(runWebhook(rest))
	default:
		usage()
	}
}
