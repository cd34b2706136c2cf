// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxyapp "k8s.io/kubernetes/cmd/kube-proxy/app"

	// Same side-effect imports as the upstream mains.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	_ "time/tzdata"
)

// Each component's cobra command parses os.Args[1:], so the program name
// is rewritten to the upstream binary name and the subcommand dropped.

func runAPIServer(args []string) int {
	os.Args = append([]string{"kube-apiserver"}, args...)
	return cli.Run(apiserverapp.NewAPIServerCommand())
}

func runKCM(args []string) int {
	os.Args = append([]string{"kube-controller-manager"}, args...)
	return cli.Run(kcmapp.NewControllerManagerCommand())
}

func runKubectl(args []string) int {
	os.Args = append([]string{"kubectl"}, args...)
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}

func runProxy(args []string) int {
	os.Args = append([]string{"kube-proxy"}, args...)
	return cli.Run(proxyapp.NewProxyCommand())
}
