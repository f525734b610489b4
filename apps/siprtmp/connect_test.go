package siprtmp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/rtmp"
)

func TestSipConnect(t *testing.T) {
	t.Parallel()
	st := startStack(t, time.Minute, "voice.example.com")
	tok := account.MintToken(secret, "alice", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		aor  string
		args []any
	}{
		{"alice@127.0.0.1", []any{"alice", "alice", "Alice Smith", "wideband"}}, // the host connected to
		{"alice@voice.example.com", []any{"alice", "alice"}},                    // a configured domain
		{"alice", []any{"alice", tok}},                                          // user part only, token
		{"alice@127.0.0.1", []any{"", "alice"}},                                 // no authName: the address's user
	} {
		if _, err := dialSip(t, st, tc.aor, tc.args...); err != nil {
			t.Errorf("%s %v: %v", tc.aor, tc.args, err)
		}
	}
	for _, tc := range []struct {
		aor  string
		args []any
		why  string
	}{
		{"alice@127.0.0.1", nil, "connect needs arguments"},
		{"alice@127.0.0.1", []any{"alice", ""}, "connect needs arguments"},
		{"alice@127.0.0.1", []any{"alice", "wrong"}, "wrong user or password"},
		{"alice@127.0.0.1", []any{"bob", "bob"}, "is not the address's user"},
		{"bob@127.0.0.1", []any{"bob", tok}, "token is for another user"},
		{"alice@iptel.org", []any{"alice", "alice"}, "domain iptel.org is not served here"},
		{"", []any{"alice", "alice"}, "rtmp://HOST/sip/USER@DOMAIN"},
		{"tel:123", []any{"alice", "alice"}, "address must look like"},
	} {
		_, err := dialSip(t, st, tc.aor, tc.args...)
		var ce *rtmp.CallError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "NetConnection.Connect.Rejected") || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s %v: want Connect.Rejected with %q, got %v", tc.aor, tc.args, tc.why, err)
		}
	}
}
