//go:build tools

// Package tools pins the upstream command this wrapper module builds:
// sigs.k8s.io/kube-network-policies/cmd, unmodified.
package tools

import _ "sigs.k8s.io/kube-network-policies/cmd"
