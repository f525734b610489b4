// Command flashvox is the voice server: `flashvox [run] [--config FILE]`
// starts it, `flashvox config` prints the embedded defaults, `flashvox
// version` prints the build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/app"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: 1 runtime failure, 2 usage or configuration error.
const (
	exitFail   = 1
	exitConfig = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runServer(args, stderr)
	case "convert":
		return runConvert(args, stdout, stderr)
	case "config":
		_, _ = stdout.Write(config.Default())
		return 0
	case "client":
		return runClient(args, stdout, stderr)
	case "cert":
		return runCert(args, stdout, stderr)
	case "passwd":
		return runPasswd(args, os.Stdin, stdout, stderr)
	case "user":
		return runUser(args, os.Stdin, stdout, stderr)
	case "db":
		return runDB(args, stdout, stderr)
	case "cdr":
		return runCDR(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "flashvox %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "flashvox: unknown command %q\n", cmd)
		usage(stderr)
		return exitConfig
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  flashvox [run] [--config FILE]   start the server (embedded defaults when no file)
  flashvox convert IN OUT [--codec C] [--rate HZ] | --out-dir DIR FILE…   convert .flv ↔ .wav
  flashvox config                  print the default configuration
  flashvox client ... call TARGET | answer   headless phone (flashvox client -h)
  flashvox cert --host NAME [--cert F] [--key F]   write a self-signed pair for RTMPS/RTMPTS tests
  flashvox passwd [--user NAME] [--realm R] [--config F]   print a users: entry (argon2id hash, SIP HA1s) for the password on stdin
  flashvox user add|passwd|disable|enable|role|list …   manage the store's accounts (flashvox user -h)
  flashvox db migrate|check [--config F]   bring the store's schema up to date, or check it
  flashvox db copy --to URL [--config F]   copy the store into another, empty one (SQLite → PostgreSQL)
  flashvox cdr [--from T] [--to T] [--user U] [--limit N] [--csv] [--config F]   print call detail records
  flashvox version                 print the version
`)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func runServer(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file (defaults are embedded)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, err := config.Load(*path, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "flashvox: %v\n", err)
		return exitConfig
	}
	logger := app.NewLogger(stderr, cfg.Log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	load := func() (*config.Config, error) { return config.Load(*path, os.Environ()) } // on SIGHUP
	err = app.RunReloadable(ctx, cfg, load, logger, buildVersion())
	if err != nil {
		logger.Error("flashvox stopped", "err", err)
		if errors.Is(err, config.ErrConfig) {
			return exitConfig
		}
		return exitFail
	}
	logger.Info("flashvox stopped")
	return 0
}
