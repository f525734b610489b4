package web

import (
	"io/fs"
	"net/http"
)

// adminCSP allows the dashboard's own script and style and its inline SVG
// charts; nothing from elsewhere, no framing.
const adminCSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// page serves the dashboard at GET /admin. The page holds no data: it
// signs in and reads everything from the admin API, which refuses
// non-admins. A request that does carry a token (a script) is checked like
// the API's: 403 for a non-admin, 401 for a bad token.
func (a *Admin) page(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("Origin") != "" {
		if _, _, err := a.verify(r); err != nil {
			writeError(w, err)
			return
		}
	}
	b, err := fs.ReadFile(static, "static/admin.html")
	if err != nil {
		http.Error(w, "dashboard not built in", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", adminCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
