package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Errors a phone can recover from on another server of a cluster.
var (
	ErrConnect        = errors.New("phone: connect")         // the server could not be reached or refused the connect
	ErrConnectionLost = errors.New("phone: connection lost") // it dropped before the call was established
)

// Failover runs run (Call or Answer, bound to its target) against each
// server in turn: when the phone cannot connect to one, or its connection
// drops before a call is established (a cluster node died), it tries the
// next, wrapping around, at most attempts times in all, with a short
// growing pause between rounds. A call that was established is never
// redone: its end is the result. servers, when it is set, is asked for
// the list again before each attempt (a cluster's live nodes); nil keeps
// the first list.
func Failover(ctx context.Context, o Options, list []string, servers func() []string, attempts int,
	run func(context.Context, Options) (*Result, error)) (*Result, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if attempts < 1 {
		attempts = 1
	}
	var res *Result
	var err error
	tried := map[string]int{}
	for i := range attempts {
		if servers != nil {
			if l := servers(); len(l) > 0 {
				list = l
			}
		}
		if len(list) == 0 {
			return nil, errors.New("phone: no server")
		}
		o.Server = leastTried(list, tried)
		tried[o.Server]++
		res, err = run(ctx, o)
		if !retryable(res, err) || i == attempts-1 {
			return res, err
		}
		log.Warn("phone: server lost, trying another", "server", o.Server, "err", err)
		pause := time.Duration(min(i+1, 10)) * 100 * time.Millisecond
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%w (giving up: %w)", err, ctx.Err())
		case <-time.After(pause):
		}
	}
	return res, err
}

// retryable: the phone never got a call through (res without one) and
// the cause was the server, not the call (rejected, timed out).
func retryable(res *Result, err error) bool {
	if err == nil || (res != nil && (res.End != nil || res.Established)) {
		return false
	}
	return errors.Is(err, ErrConnect) || errors.Is(err, ErrConnectionLost)
}

// leastTried is the first server of list tried the fewest times.
func leastTried(list []string, tried map[string]int) string {
	best := list[0]
	for _, s := range list[1:] {
		if tried[s] < tried[best] {
			best = s
		}
	}
	return best
}
