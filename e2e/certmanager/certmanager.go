// SPDX-License-Identifier: Apache-2.0
// The cert-manager half: the controllers an Issuer of kind SelfSigned or CA
// and its Certificates need, built from controller.Known() on one
// ContextFactory, and the cainjector for webhook configurations on a
// controller-runtime manager, both in this process.
package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	controller "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	// each registers itself with controller.Register
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// each registers itself with issuer.RegisterIssuer, for the issuers controller
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

var controllerNames = []string{
	"issuers",
	"certificaterequests-approver",
	"certificaterequests-issuer-selfsigned",
	"certificaterequests-issuer-ca",
	"certificates-trigger",
	"certificates-issuing",
	"certificates-key-manager",
	"certificates-request-manager",
	"certificates-readiness",
	"certificates-revision-manager",
}

const workers = 2

func runCertManager(ctx context.Context, kubeconfig, namespace string, backoff time.Duration) error {
	ctrl.SetLogger(logf.Log)
	ctx = logf.NewContext(ctx, logf.Log)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mgr, err := newInjector(ctx, kubeconfig, namespace)
	if err != nil {
		return err
	}
	run, err := buildControllers(ctx, kubeconfig, namespace, backoff)
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- mgr.Start(ctx) }()
	go func() { errs <- run() }()
	fmt.Println("zl-certmanager: running", len(controllerNames), "controllers and the cainjector")
	select {
	case err = <-errs:
		cancel()
	case <-ctx.Done():
	}
	return err
}

// buildControllers builds every controller first (each registers its
// informers then), then starts the informer factories; the function it
// returns runs them until ctx ends.
func buildControllers(ctx context.Context, kubeconfig, namespace string, backoff time.Duration) (func() error, error) {
	opts := controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		Namespace:          namespace,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: namespace},
		CertificateOptions: controller.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: backoff,
			CertificateRequestMaximumBackoffDuration: 4 * backoff,
		},
	}
	if backoff <= 0 {
		opts.CertificateRequestMinimumBackoffDuration = time.Hour
		opts.CertificateRequestMaximumBackoffDuration = 32 * time.Hour
	}
	factory, err := controller.NewContextFactory(ctx, opts)
	if err != nil {
		return nil, err
	}
	built, err := constructAll(factory)
	if err != nil {
		return nil, err
	}
	shared, err := factory.Build()
	if err != nil {
		return nil, err
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	return func() error { return runAll(ctx, built) }, nil
}

func constructAll(factory *controller.ContextFactory) (map[string]controller.Interface, error) {
	known := controller.Known()
	built := make(map[string]controller.Interface, len(controllerNames))
	for _, name := range controllerNames {
		fn, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("controller %q is not registered (known: %v)", name, sortedKeys(known))
		}
		iface, err := fn(factory)
		if err != nil {
			return nil, fmt.Errorf("building controller %q: %w", name, err)
		}
		built[name] = iface
	}
	return built, nil
}

func runAll(ctx context.Context, built map[string]controller.Interface) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(built))
	for name, iface := range built {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := iface.Run(workers, ctx); err != nil {
				errs <- fmt.Errorf("controller %q: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func sortedKeys(m map[string]controller.Constructor) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newInjector is the cainjector: it copies the CA of the Certificate named by
// a webhook configuration's cert-manager.io/inject-ca-from annotation into
// its caBundle. Metrics and probes are off, no leader election.
func newInjector(ctx context.Context, kubeconfig, namespace string) (ctrl.Manager, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	// the cainjector's field manager is the prefix of the user agent
	cfg.UserAgent = "cert-manager-cainjector/v1.21.2"
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmapi.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Cache:                  cache.Options{},
	})
	if err != nil {
		return nil, err
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    namespace,
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	})
	return mgr, err
}
