// Command coredns is CoreDNS v1.15 with the plugins the cluster's Corefile (and a
// Kubernetes cluster's usual variations of it) uses, instead of all ~60: the upstream
// main (github.com/coredns/coredns/coredns.go) imports core/plugin, which links every
// cloud provider's SDK (Azure, Route 53, Cloud DNS, ...) into a DNS server that only
// ever answers for cluster.local. Plugin order stays CoreDNS's own
// (core/dnsserver/zdirectives.go); a plugin that is not imported here is simply
// unknown to the Corefile parser. To add one, import it below.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/rewrite"
	_ "github.com/coredns/coredns/plugin/template"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() {
	coremain.Run()
}
