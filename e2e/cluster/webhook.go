// SPDX-License-Identifier: Apache-2.0

package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// runWebhook serves a throwaway validating admission webhook over TLS on
// 127.0.0.1. It denies any object carrying the label DENY-LABEL=true with a
// recognisable message and allows everything else; every review is
// appended to DIR/reviews.log. It writes DIR/ca.crt (for the caBundle),
// DIR/port once listening, and stops on SIGTERM.
func runWebhook(args []string) int {
	fs := flag.NewFlagSet("webhook", flag.ExitOnError)
	dir := fs.String("dir", "", "folder for ca.crt, port and reviews.log")
	denyLabel := fs.String("deny-label", "zl-smoke/deny", "deny objects where this label is \"true\"")
	_ = fs.Parse(args)
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "webhook: --dir is required")
		return 2
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Print(err)
		return 1
	}
	ca, err := newCA("zl-webhook-ca")
	if err != nil {
		log.Print(err)
		return 1
	}
	srv, err := ca.issue("zl-webhook", nil, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, true)
	if err != nil {
		log.Print(err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(*dir, "ca.crt"), ca.certPEM(), 0o644); err != nil {
		log.Print(err)
		return 1
	}
	reviews, err := os.OpenFile(filepath.Join(*dir, "reviews.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Print(err)
		return 1
	}
	defer reviews.Close()

	var count atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "bad AdmissionReview", http.StatusBadRequest)
			return
		}
		req := review.Request
		var obj struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(req.Object.Raw, &obj)
		resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		if obj.Metadata.Labels[*denyLabel] == "true" {
			resp.Allowed = false
			resp.Result = &metav1.Status{
				Code:    http.StatusForbidden,
				Message: fmt.Sprintf("zl-smoke webhook denies %s %s/%s", req.Kind.Kind, req.Namespace, obj.Metadata.Name),
			}
		}
		n := count.Add(1)
		fmt.Fprintf(reviews, "%d %s %s %s/%s allowed=%v\n", n, req.Operation, req.Kind.Kind, req.Namespace,
			obj.Metadata.Name, resp.Allowed)
		out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Print(err)
		return 1
	}
	cert := tls.Certificate{Certificate: [][]byte{srv.der}, PrivateKey: srv.key}
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	port := l.Addr().(*net.TCPAddr).Port
	tmp := filepath.Join(*dir, "port.tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		log.Print(err)
		return 1
	}
	if err := os.Rename(tmp, filepath.Join(*dir, "port")); err != nil {
		log.Print(err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; _ = hs.Close() }()
	if err := hs.ServeTLS(l, "", ""); err != nil && err != http.ErrServerClosed {
		log.Print(err)
		return 1
	}
	return 0
}
