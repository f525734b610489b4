package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/store"
)

type roles map[string]string

func (r roles) Role(user string) (string, error) { return r[user], nil }

// adminDo calls the admin API of srv with a token; it returns the status
// and the body.
type adminDo func(tok, method, path, body string) (int, string)

// TestAdminAPI: only admins reach /api/v1/admin/…; the CDR page, its
// paging and CSV; accounts added, listed (never a hash), changed.
func TestAdminAPI(t *testing.T) {
	db, err := store.Open(context.Background(), store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i, id := range []string{"c1", "c2", "c3"} {
		st := t0.Add(time.Duration(i) * time.Minute)
		if err := db.AddCDRs(ctx, []store.CDR{{ID: id, Caller: "root", Callee: "bob", Started: st, Answered: st, Ended: st.Add(time.Second), EndEvent: "bye"}}); err != nil {
			t.Fatal(err)
		}
	}
	b := int64(800)
	if err := db.AddMemberships(ctx, []store.Membership{{ID: "m1", Room: "standup", Member: "bob", Codec: "speex", Joined: t0, Left: t0.Add(time.Minute), Reason: "left", Bytes: &b}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddSIPLegs(ctx, []store.SIPLeg{{ID: "l1", Peer: "carrier", Party: "root", Codec: "pcma", Started: t0, Ended: t0.Add(time.Minute), Reason: "hangup"}}); err != nil {
		t.Fatal(err)
	}
	loss := 1.5
	if err := db.AddWebRTCSessions(ctx, []store.WebRTCSession{{ID: "w1", Stream: "live/radio", Direction: "whep", Addr: "192.0.2.9", Codec: "opus",
		Engine: "lite", Started: t0, Ended: t0.Add(time.Minute), Reason: "deleted", LossOutPct: &loss}}); err != nil {
		t.Fatal(err)
	}
	auth := account.NewAuth(account.AuthOptions{Users: map[string]string{"root": "root", "bob": "bob"}})
	mux := http.NewServeMux()
	(&Admin{Auth: auth, Roles: roles{"root": "admin", "bob": "moderator"}, CDRs: db, Users: db, Realm: "flashvox"}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rootTok, _, _ := auth.Login("root", "root")
	bobTok, _, _ := auth.Login("bob", "bob")
	var do adminDo = func(tok, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, r := range [][2]string{{"GET", "/api/v1/admin/cdr"}, {"GET", "/api/v1/admin/users"}, {"POST", "/api/v1/admin/users"}, {"PATCH", "/api/v1/admin/users/bob"}} {
		if code, _ := do(bobTok, r[0], r[1], `{"name":"x","password":"y"}`); code != 403 {
			t.Errorf("moderator %s %s: %d", r[0], r[1], code)
		}
		if code, _ := do("", r[0], r[1], ""); code != 401 {
			t.Errorf("no token %s %s: %d", r[0], r[1], code)
		}
	}
	testAdminCDR(t, do, rootTok)
	testAdminUsers(t, do, rootTok, db)
}

func testAdminCDR(t *testing.T, do adminDo, rootTok string) {
	var page struct {
		Records []struct{ ID string }
		Next    *int
	}
	code, body := do(rootTok, "GET", "/api/v1/admin/cdr?limit=2", "")
	if json.Unmarshal([]byte(body), &page); code != 200 || len(page.Records) != 2 || page.Records[0].ID != "c3" || page.Next == nil || *page.Next != 2 {
		t.Fatalf("page 1: %d %s", code, body)
	}
	code, body = do(rootTok, "GET", "/api/v1/admin/cdr?limit=2&offset=2", "")
	page.Next = nil
	if json.Unmarshal([]byte(body), &page); code != 200 || len(page.Records) != 1 || page.Records[0].ID != "c1" || page.Next != nil {
		t.Fatalf("page 2: %d %s", code, body)
	}
	if code, body := do(rootTok, "GET", "/api/v1/admin/cdr?format=csv&to=2023-11-14T22:14:00Z", ""); code != 200 || strings.Count(body, "\n") != 2 {
		t.Errorf("csv: %d %q", code, body)
	}
	code, body = do(rootTok, "GET", "/api/v1/admin/cdr?kind=conference&party=bob", "")
	if code != 200 || !strings.Contains(body, `"room":"standup","member":"bob","codec":"speex"`) || !strings.Contains(body, `"duration":60,"reason":"left","bytes":800`) {
		t.Errorf("conference records: %d %s", code, body)
	}
	if code, body := do(rootTok, "GET", "/api/v1/admin/cdr?kind=conference&party=root", ""); code != 200 || body != `{"records":[]}`+"\n" {
		t.Errorf("root's conference records: %d %q", code, body)
	}
	code, body = do(rootTok, "GET", "/api/v1/admin/cdr?kind=sip&format=csv", "")
	if code != 200 || !strings.HasPrefix(body, "id,call_id,sip_call_id") || !strings.Contains(body, "l1,,,,carrier,root,pcma,") {
		t.Errorf("sip legs CSV: %d %s", code, body)
	}
	code, body = do(rootTok, "GET", "/api/v1/admin/cdr?kind=webrtc&party=192.0.2.9", "")
	if code != 200 || !strings.Contains(body, `"stream":"live/radio","direction":"whep","addr":"192.0.2.9"`) || !strings.Contains(body, `"lossOutPct":1.5,"jitterMs":null`) {
		t.Errorf("webrtc session records: %d %s", code, body)
	}
	for _, q := range []string{"limit=1001", "from=yesterday", "offset=-1", "kind=calls", "kind=conference&limit=0"} {
		if code, _ := do(rootTok, "GET", "/api/v1/admin/cdr?"+q, ""); code != 400 {
			t.Errorf("%s: %d", q, code)
		}
	}
}

func testAdminUsers(t *testing.T, do adminDo, rootTok string, db *store.DB) {
	ctx := context.Background()
	if code, body := do(rootTok, "POST", "/api/v1/admin/users", `{"name":"dave","password":"dave pw","role":"moderator"}`); code != 201 {
		t.Fatalf("add: %d %s", code, body)
	}
	for body, want := range map[string]int{
		`{"name":"dave","password":"x"}`: 409, `{"name":"e v","password":"x"}`: 400,
		`{"name":"erin"}`: 400, `{"name":"erin","password":"x","role":"root"}`: 400,
	} {
		if code, _ := do(rootTok, "POST", "/api/v1/admin/users", body); code != want {
			t.Errorf("add %s: %d, want %d", body, code, want)
		}
	}
	if code, _ := do(rootTok, "PATCH", "/api/v1/admin/users/dave", `{"enabled":false,"password":"new pw","role":"user"}`); code != 204 {
		t.Fatalf("patch: %d", code)
	}
	if code, _ := do(rootTok, "PATCH", "/api/v1/admin/users/nobody", `{"enabled":false}`); code != 404 {
		t.Errorf("patch unknown: %d", code)
	}
	code, body := do(rootTok, "GET", "/api/v1/admin/users", "")
	if code != 200 || !strings.Contains(body, `{"name":"dave","role":"user","enabled":false,"sip":true`) || strings.Contains(body, "argon2") {
		t.Fatalf("list: %d %s", code, body)
	}
	u, _ := db.User(ctx, "dave")
	h, _ := passhash.Parse(u.PasswordHash)
	if want, _ := passhash.HA1(passhash.MD5, "dave", "flashvox", "new pw"); !h.Verify("new pw") || u.HA1 != want {
		t.Error("the new password was not stored")
	}
}
