//go:build unix

package app

import (
	"log/slog"
	"syscall"

	"github.com/flashvox/flashvox/config"
)

// checkFDs warns when the descriptor limit (Go raises the soft limit to the
// hard one at start) is below what the configured limits need: a flood
// would then reach "too many open files" and stop every listener's accepts
// instead of meeting flashvox's own limits, which refuse only the offender.
func checkFDs(cfg *config.Config, log *slog.Logger) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if need := fdNeed(cfg); rl.Cur < need {
		log.Warn("the open-file limit is below what the configured connection limits need; raise it (ulimit -n, LimitNOFILE=) or lower rtmp.max_connections and http.max_connections",
			"limit", rl.Cur, "need", need)
	}
}
