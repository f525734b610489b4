package softphone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestFailover: which failures move the phone to the next server, and
// that the attempts are bounded.
func TestFailover(t *testing.T) {
	lost := fmt.Errorf("%w: waiting for a call: %w", ErrNotEstablished, ErrConnectionLost)
	for _, tc := range []struct {
		name     string
		attempts int
		results  map[string]error // per server; missing: success
		est      bool             // the call was established before the error
		want     []string         // servers tried, in order
		ok       bool
	}{
		{"first server works", 5, nil, false, []string{"a"}, true},
		{"a refuses, b works", 5, map[string]error{"a": fmt.Errorf("%w a: refused", ErrConnect)}, false, []string{"a", "b"}, true},
		{"a lost while waiting, b works", 5, map[string]error{"a": lost}, false, []string{"a", "b"}, true},
		{"all down: bounded", 4, map[string]error{"a": ErrConnect, "b": ErrConnect, "c": ErrConnect}, false, []string{"a", "b", "c", "a"}, false},
		{"a rejected the call: no retry", 5, map[string]error{"a": fmt.Errorf("%w: rejected", ErrNotEstablished)}, false, []string{"a"}, false},
		{"established, then lost: not redone", 5, map[string]error{"a": lost}, true, []string{"a"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tried []string
			run := func(_ context.Context, o Options) (*Result, error) {
				tried = append(tried, o.Server)
				if err, ok := tc.results[o.Server]; ok {
					return &Result{Established: tc.est}, err
				}
				return &Result{}, nil
			}
			_, err := Failover(context.Background(), Options{}, []string{"a", "b", "c"}, nil, tc.attempts, run)
			if !slices.Equal(tried, tc.want) {
				t.Errorf("tried %v, want %v", tried, tc.want)
			}
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// A refreshed list (a cluster's live nodes) replaces the first one.
	var tried []string
	_, _ = Failover(context.Background(), Options{}, []string{"a"}, func() []string { return []string{"a", "x"} }, 2,
		func(_ context.Context, o Options) (*Result, error) {
			tried = append(tried, o.Server)
			return nil, errors.Join(ErrConnect)
		})
	if !slices.Equal(tried, []string{"a", "x"}) {
		t.Errorf("with a refreshed list: tried %v", tried)
	}
}
