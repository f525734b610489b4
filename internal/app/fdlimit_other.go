//go:build !unix

package app

import (
	"log/slog"

	"github.com/flashvox/flashvox/config"
)

// checkFDs has no descriptor limit to read on this system.
func checkFDs(*config.Config, *slog.Logger) {}
