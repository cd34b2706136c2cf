// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// freePort asks the kernel for an unused loopback TCP port. The port is
// released before the component binds it; nothing else on a test machine
// races for kernel-chosen ephemeral ports in practice.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// child is one re-exec'd component.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startChild(dir, name string, args []string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{name}, args...)...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// If the supervisor dies hard, the kernel kills the components too,
	// so no orphan apiserver keeps a port or the run dir busy.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	log.Printf("started %s pid %d (log %s.log)", name, cmd.Process.Pid, name)
	return c, nil
}

func (c *child) stop(timeout time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", clientPort))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", peerPort))
	cfg := embed.NewConfig()
	cfg.Name = "zl"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	// Keep the data dir small during long benchmarks.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", fmt.Errorf("etcd not ready after 60s")
	}
	return e, cu.String(), nil
}

// waitReady polls the apiserver's /readyz with the admin identity.
func waitReady(ctx context.Context, p *pki, server string) error {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.cert)
	cert := tls.Certificate{Certificate: [][]byte{p.admin.der}, PrivateKey: p.admin.key}
	hc := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		}},
	}
	for {
		resp, err := hc.Get(server + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("apiserver not ready: %v", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func runSupervisor(args []string) int {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", "", "run folder (certs, etcd data, logs, kubeconfig)")
	ipv4Only := fs.Bool("ipv4-only", false, "single-stack IPv4 service CIDR instead of dual-stack")
	gcSyncs := fs.Int("concurrent-gc-syncs", 5, "kube-controller-manager --concurrent-gc-syncs")
	_ = fs.Parse(args)
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "run: --dir is required")
		return 2
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Print(err)
		return 1
	}
	*dir = abs
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("zl-cluster: ")
	start := time.Now()

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Print(err)
		return 1
	}
	p, err := makePKI(filepath.Join(*dir, "pki"))
	if err != nil {
		log.Printf("pki: %v", err)
		return 1
	}
	etcd, etcdURL, err := startEtcd(*dir)
	if err != nil {
		log.Printf("etcd: %v", err)
		return 1
	}
	defer etcd.Close()
	log.Printf("etcd ready at %s after %s", etcdURL, time.Since(start).Round(time.Millisecond))
	// For e2e/cluster/compact (etcd's JSON gateway on loopback, no TLS).
	if err := os.WriteFile(filepath.Join(*dir, "etcd-url"), []byte(etcdURL+"\n"), 0o644); err != nil {
		log.Print(err)
		return 1
	}

	apiPort, err := freePort()
	if err != nil {
		log.Print(err)
		return 1
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	kubeconfig := filepath.Join(*dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, p.ca, p.admin); err != nil {
		log.Print(err)
		return 1
	}
	serviceCIDR := "10.96.0.0/16,fd00:10:96::/112"
	if *ipv4Only {
		serviceCIDR = "10.96.0.0/16"
	}
	apiArgs := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(*dir, "apiserver-certs"),
		"--tls-cert-file=" + p.path("apiserver.crt"),
		"--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--authorization-mode=RBAC",
		// No kubelet ever mounts tokens here, and the ServiceAccount
		// plugin would reject pods created before the serviceaccount
		// controller made the namespace's "default" SA.
		"--disable-admission-plugins=ServiceAccount",
		"--enable-admission-plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
		// The default reconciler would publish 127.0.0.1 as the
		// "kubernetes" endpoint, which endpoint validation rejects.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	}
	kcmArgs := []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		// podgc is deliberately absent: it would force-delete pods bound
		// to Nodes that do not exist; no nodelifecycle either (no kubelet
		// heartbeats, it would taint every Node). clusterrole-aggregation
		// fills the built-in view, edit and admin ClusterRoles.
		"--controllers=garbagecollector,namespace,endpointslice,serviceaccount,clusterrole-aggregation",
		"--use-service-account-credentials=false",
		"--concurrent-gc-syncs=" + strconv.Itoa(*gcSyncs),
		"--secure-port=0",
		"--profiling=false",
		"--v=1",
	}
	if v := os.Getenv("ZL_APISERVER_EXTRA_ARGS"); v != "" {
		apiArgs = append(apiArgs, strings.Fields(v)...)
	}
	if v := os.Getenv("ZL_KCM_EXTRA_ARGS"); v != "" {
		kcmArgs = append(kcmArgs, strings.Fields(v)...)
	}

	api, err := startChild(*dir, "apiserver", apiArgs)
	if err != nil {
		log.Printf("apiserver: %v", err)
		return 1
	}
	kcm, err := startChild(*dir, "kcm", kcmArgs)
	if err != nil {
		api.stop(10 * time.Second)
		log.Printf("kcm: %v", err)
		return 1
	}
	children := []*child{api, kcm}
	stopAll := func() {
		var wg sync.WaitGroup
		for _, c := range children {
			wg.Add(1)
			go func(c *child) { defer wg.Done(); c.stop(10 * time.Second) }(c)
		}
		wg.Wait()
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	// SIGUSR1 (e2e/cluster/restart-apiserver): kill the apiserver and
	// start it again with the same flags, port, certificates and etcd,
	// as after a crash; clients see their connections drop.
	restarts := make(chan os.Signal, 1)
	signal.Notify(restarts, syscall.SIGUSR1)
	restartCount := 0
	restartStart := time.Now()

	readyCtx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	readyErr := make(chan error, 1)
	go func() { readyErr <- waitReady(readyCtx, p, server) }()

	ready := false
	for {
		select {
		case err := <-readyErr:
			cancel()
			if err != nil {
				log.Print(err)
				stopAll()
				return 1
			}
			ready = true
			if restartCount == 0 {
				log.Printf("apiserver ready at %s after %s", server, time.Since(start).Round(time.Millisecond))
			} else {
				log.Printf("apiserver restart %d ready after %s", restartCount, time.Since(restartStart).Round(time.Millisecond))
				// Written before "ready" so a waiter that sees the new
				// count also sees ready.
				if err := os.WriteFile(filepath.Join(*dir, "apiserver-restarts"), []byte(strconv.Itoa(restartCount)+"\n"), 0o644); err != nil {
					log.Print(err)
				}
			}
			if err := os.WriteFile(filepath.Join(*dir, "ready"), []byte(server+"\n"), 0o644); err != nil {
				log.Print(err)
			}
			readyErr = nil
		case <-restarts:
			if readyErr != nil {
				log.Printf("SIGUSR1 ignored: the apiserver is not ready yet")
				continue
			}
			restartCount++
			restartStart = time.Now()
			log.Printf("restarting the apiserver (%d)", restartCount)
			_ = os.Remove(filepath.Join(*dir, "ready"))
			// Killed, not stopped: a crash, with no graceful close of
			// the watches it serves.
			_ = api.cmd.Process.Kill()
			<-api.done
			next, err := startChild(*dir, "apiserver", apiArgs)
			if err != nil {
				log.Printf("apiserver: %v", err)
				stopAll()
				return 1
			}
			api = next
			children[0] = api
			readyCtx, cancel = context.WithTimeout(context.Background(), 120*time.Second)
			readyErr = make(chan error, 1)
			go func(ctx context.Context, ch chan error) { ch <- waitReady(ctx, p, server) }(readyCtx, readyErr)
		case <-api.done:
			log.Printf("kube-apiserver exited: %v (see apiserver.log)", api.err)
			cancel()
			stopAll()
			return 1
		case <-kcm.done:
			log.Printf("kube-controller-manager exited: %v (see kcm.log)", kcm.err)
			cancel()
			stopAll()
			return 1
		case s := <-sigs:
			log.Printf("%s: stopping (ready=%v)", s, ready)
			cancel()
			_ = os.Remove(filepath.Join(*dir, "ready"))
			stopAll()
			return 0
		}
	}
}
