// SPDX-License-Identifier: Apache-2.0

package main

// Helpers for the network-namespace dataplane of e2e/dataplane: a relay
// that lets a process inside a named network namespace reach the API
// server on the root namespace's loopback, and a conntrack flush for a
// namespace (IPv4 entries, what the dataplane uses; the machine has no
// conntrack CLI).

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// listenInNetns creates a TCP listener inside the named network namespace.
// The goroutine locks itself to its OS thread, moves that thread into the
// namespace and returns without unlocking, so the Go runtime retires the
// thread instead of reusing it in the wrong namespace. The socket stays in
// the namespace it was created in; the rest of the process does not move.
func listenInNetns(name, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := netns.GetFromName(name)
		if err != nil {
			ch <- result{nil, fmt.Errorf("netns %s: %w", name, err)}
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			ch <- result{nil, fmt.Errorf("setns %s: %w", name, err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

// relayConn copies both directions between a client and a new connection
// to the target, closing both once either side is done.
func relayConn(c net.Conn, to string) {
	defer c.Close()
	up, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: dial %s: %v\n", to, err)
		return
	}
	defer up.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
}

func runRelay(args []string) int {
	fs := flag.NewFlagSet("relay", flag.ExitOnError)
	ns := fs.String("netns", "", "network namespace (name under /var/run/netns) to listen in")
	listen := fs.String("listen", "127.0.0.1:6444", "address to listen on inside the namespace")
	to := fs.String("to", "", "address to forward to, dialled from this process's own namespace")
	ready := fs.String("ready", "", "file to create once listening")
	_ = fs.Parse(args)
	if *ns == "" || *to == "" {
		fmt.Fprintln(os.Stderr, "usage: zl-cluster relay --netns NAME --listen ADDR:PORT --to ADDR:PORT [--ready FILE]")
		return 2
	}
	ln, err := listenInNetns(*ns, *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: listen %s in %s: %v\n", *listen, *ns, err)
		return 1
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("ready\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "relay: %v\n", err)
			return 1
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			return 0
		}
		go relayConn(c, *to)
	}
}

func runConntrackFlush(args []string) int {
	fs := flag.NewFlagSet("conntrack-flush", flag.ExitOnError)
	name := fs.String("netns", "", "network namespace (name under /var/run/netns)")
	_ = fs.Parse(args)
	if *name == "" {
		fmt.Fprintln(os.Stderr, "usage: zl-cluster conntrack-flush --netns NAME")
		return 2
	}
	ns, err := netns.GetFromName(*name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conntrack-flush: netns %s: %v\n", *name, err)
		return 1
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, syscall.NETLINK_NETFILTER)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conntrack-flush: netlink in %s: %v\n", *name, err)
		return 1
	}
	defer h.Close()
	if err := h.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		fmt.Fprintf(os.Stderr, "conntrack-flush: %s: %v\n", *name, err)
		return 1
	}
	return 0
}
