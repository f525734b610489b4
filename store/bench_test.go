package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkUserLookup is the store's share of every login, token check
// and SIP digest with a store (account.Directory looks the user up).
func BenchmarkUserLookup(b *testing.B) {
	d := benchStore(b)
	ctx := context.Background()
	if err := d.AddUser(ctx, User{Name: "alice", PasswordHash: "h", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.User(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddCDR is one call record written alone (the writer batches
// records that end together).
func BenchmarkAddCDR(b *testing.B) {
	d := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := d.AddCDRs(ctx, []CDR{{ID: fmt.Sprint(i), Caller: "a", Callee: "b", Started: now, Ended: now, EndEvent: "bye"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStore(b *testing.B) *DB {
	d, err := Open(context.Background(), URLForDataDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), 0); err != nil {
		b.Fatal(err)
	}
	return d
}
