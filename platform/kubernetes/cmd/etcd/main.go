// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3.
//
// The upstream binary's main package lives in the go.etcd.io/etcd/v3 root
// module, which uses replace directives and so cannot be built as a
// dependency. Its main is exactly this one line, so we re-declare it here.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
