// SPDX-License-Identifier: Apache-2.0
// The projector stands in for the kubelet's Secret volume: on each change of
// one Secret it writes the keys into a new "..<timestamp>" folder, points a
// new symlink at it and renames that over "..data" (one atomic step), keeps
// "<key> -> ..data/<key>" links, then removes the previous folder, as the
// kubelet's atomic writer does.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

type projector struct {
	dir  string
	last map[string][]byte
	errs chan error
}

func runProjector(ctx context.Context, kubeconfig, namespace, secret, dir string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := &projector{dir: dir, errs: make(chan error, 1)}
	lw := cache.NewListWatchFromClient(client.CoreV1().RESTClient(), "secrets", namespace,
		fields.OneTermEqualSelector("metadata.name", secret))
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Secret{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    p.onSecret,
			UpdateFunc: func(_, obj any) { p.onSecret(obj) },
		},
	})
	go informer.Run(ctx.Done())
	select {
	case err = <-p.errs:
		return err
	case <-ctx.Done():
		return nil
	}
}

func (p *projector) onSecret(obj any) {
	s, ok := obj.(*corev1.Secret)
	if !ok || reflect.DeepEqual(s.Data, p.last) {
		return
	}
	if err := p.write(s.Data); err != nil {
		select {
		case p.errs <- err:
		default:
		}
		return
	}
	p.last = s.Data
	fmt.Printf("zl-certmanager project: wrote %s/%s (resourceVersion %s)\n", s.Namespace, s.Name, s.ResourceVersion)
}

func (p *projector) write(data map[string][]byte) error {
	old, _ := os.Readlink(filepath.Join(p.dir, "..data"))
	ts := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.000000000")
	if err := os.Mkdir(filepath.Join(p.dir, ts), 0o755); err != nil {
		return err
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := os.WriteFile(filepath.Join(p.dir, ts, k), data[k], 0o644); err != nil {
			return err
		}
	}
	tmp := filepath.Join(p.dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, "..data")); err != nil {
		return err
	}
	if err := p.linkKeys(keys); err != nil {
		return err
	}
	if old != "" && old != ts {
		return os.RemoveAll(filepath.Join(p.dir, old))
	}
	return nil
}

func (p *projector) linkKeys(keys []string) error {
	for _, k := range keys {
		link := filepath.Join(p.dir, k)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", k), link); err != nil {
			return err
		}
	}
	return nil
}
