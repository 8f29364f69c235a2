// Command load-balancer gives LoadBalancer Services of the local cluster an address,
// as a cloud provider's service controller would: it assigns the next free address of
// a pool (the platform passes 198.51.100.128/25) to status.loadBalancer.ingress. The platform routes
// the pool from the host to node-0, where kube-proxy accepts traffic for these
// addresses (it programs every status.loadBalancer.ingress IP), so the address is
// reachable from the host. The NodePort that every LoadBalancer Service also gets
// comes from the API server, not from here.
//
// Services with a spec.loadBalancerClass belong to another implementation and are left
// alone. spec.loadBalancerIP (deprecated, still honoured by most implementations) is
// used when it is inside the pool and free.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

type controller struct {
	client kubernetes.Interface
	lister corelisters.ServiceLister
	pool   netip.Prefix
	queue  workqueue.TypedRateLimitingInterface[string]
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the controller's identity")
	pool := flag.String("pool", "198.51.100.128/25", "IPv4 prefix to assign LoadBalancer addresses from")
	klog.InitFlags(nil)
	flag.Parse()

	prefix, err := netip.ParsePrefix(*pool)
	if err != nil || !prefix.Addr().Is4() {
		klog.Fatalf("--pool must be an IPv4 prefix: %q", *pool)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("loading --kubeconfig: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	factory := informers.NewSharedInformerFactory(client, 0)
	services := factory.Core().V1().Services()
	c := &controller{
		client: client,
		lister: services.Lister(),
		pool:   prefix.Masked(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "load-balancer"}),
	}
	enqueue := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	if _, err := services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		klog.Fatalf("watching Services: %v", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), services.Informer().HasSynced) {
		klog.Fatal("Service cache did not sync")
	}
	klog.InfoS("assigning LoadBalancer addresses", "pool", c.pool.String())
	// One worker: allocation reads the cache and must not race with itself.
	go wait.UntilWithContext(ctx, c.work, time.Second)
	<-ctx.Done()
	c.queue.ShutDown()
}

func (c *controller) work(ctx context.Context) {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		if err := c.sync(ctx, key); err != nil {
			klog.ErrorS(err, "syncing Service", "service", key)
			c.queue.AddRateLimited(key)
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func ours(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

func (c *controller) assigned(svc *corev1.Service) (netip.Addr, bool) {
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(ing.IP); err == nil && c.pool.Contains(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (c *controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.lister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // its address is free again: allocation only counts existing Services
	} else if err != nil {
		return err
	}
	_, has := c.assigned(svc)
	if !ours(svc) {
		if has { // no longer a LoadBalancer Service: release the address
			return c.setIngress(ctx, svc, nil)
		}
		return nil
	}
	if has {
		return nil
	}
	ip, err := c.allocate(svc)
	if err != nil {
		return err
	}
	klog.InfoS("assigned", "service", key, "ip", ip.String())
	return c.setIngress(ctx, svc, []corev1.LoadBalancerIngress{{IP: ip.String(), IPMode: ptr(corev1.LoadBalancerIPModeVIP)}})
}

func (c *controller) allocate(svc *corev1.Service) (netip.Addr, error) {
	all, err := c.lister.List(labels.Everything())
	if err != nil {
		return netip.Addr{}, err
	}
	used := map[netip.Addr]bool{}
	for _, other := range all {
		if a, ok := c.assigned(other); ok && other.UID != svc.UID {
			used[a] = true
		}
	}
	if want, err := netip.ParseAddr(svc.Spec.LoadBalancerIP); err == nil {
		if !c.pool.Contains(want) || used[want] {
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP %s is outside the pool %s or already assigned", want, c.pool)
		}
		return want, nil
	}
	// Skip the network address; stop before the broadcast address.
	for a := c.pool.Addr().Next(); c.pool.Contains(a) && c.pool.Contains(a.Next()); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("the pool %s is exhausted", c.pool)
}

func (c *controller) setIngress(ctx context.Context, svc *corev1.Service, ingress []corev1.LoadBalancerIngress) error {
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = ingress
	_, err := c.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return err
}

func ptr[T any](v T) *T { return &v }
