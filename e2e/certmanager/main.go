// SPDX-License-Identifier: Apache-2.0
// zl-certmanager: cert-manager's own certificate controllers and its
// cainjector in one process, for the e2e cluster, plus "project", which
// stands in for the kubelet's Secret volume by writing a Secret into a
// folder with the kubelet's atomic-writer layout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: zl-certmanager run -kubeconfig FILE -namespace NS")
	fmt.Fprintln(os.Stderr, "       zl-certmanager project -kubeconfig FILE -namespace NS -secret NAME -dir DIR")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (required)")
	namespace := fs.String("namespace", "", "namespace of the Issuers, Certificates and Secrets (required)")
	var err error
	switch os.Args[1] {
	case "run":
		backoff := fs.Duration("min-backoff", 0, "minimum backoff after a failed CertificateRequest")
		_ = fs.Parse(os.Args[2:])
		need(*kubeconfig, *namespace)
		err = runCertManager(ctx, *kubeconfig, *namespace, *backoff)
	case "project":
		secret := fs.String("secret", "", "name of the Secret to project (required)")
		dir := fs.String("dir", "", "folder to write it into (required)")
		_ = fs.Parse(os.Args[2:])
		need(*kubeconfig, *namespace, *secret, *dir)
		err = runProjector(ctx, *kubeconfig, *namespace, *secret, *dir)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "zl-certmanager %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func need(values ...string) {
	for _, v := range values {
		if v == "" {
			usage()
		}
	}
}
