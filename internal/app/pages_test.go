package app

import "testing"

// TestListenPort: the page points the SWF at rtmp.listen's port.
func TestListenPort(t *testing.T) {
	for addr, want := range map[string]int{
		":1935":          1935,
		"0.0.0.0:1936":   1936,
		"127.0.0.1:2000": 2000,
		"[::1]:19350":    19350,
		"":               0,
		"host":           0,
		":rtmp":          0,
		":0":             0,
	} {
		if got := listenPort(addr); got != want {
			t.Errorf("listenPort(%q) = %d, want %d", addr, got, want)
		}
	}
}
