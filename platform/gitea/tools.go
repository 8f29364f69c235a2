//go:build tools

// Package tools makes `go mod tidy` keep what code.gitea.io/gitea (a program, built by
// build.sh) needs: these are the imports of its main package (main.go).
package tools

import (
	_ "code.gitea.io/gitea/cmd"
	_ "code.gitea.io/gitea/modules/log"
	_ "code.gitea.io/gitea/modules/markup/asciicast"
	_ "code.gitea.io/gitea/modules/markup/console"
	_ "code.gitea.io/gitea/modules/markup/csv"
	_ "code.gitea.io/gitea/modules/markup/markdown"
	_ "code.gitea.io/gitea/modules/markup/orgmode"
	_ "code.gitea.io/gitea/modules/setting"
)
