package store

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CDRHeader is the first row of WriteCSV, the column names.
var CDRHeader = []string{"id", "caller", "callee", "caller_transport", "callee_transport", "caller_codec", "callee_codec",
	"mode", "fell_back", "started", "answered", "ended", "duration_s", "end_event", "reason", "ended_by"}

// WriteCSV writes records as CSV (RFC 4180) under CDRHeader: times in
// RFC 3339 UTC with milliseconds ("" for no answer), the connected
// duration in seconds.
func WriteCSV(w io.Writer, cs []CDR) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CDRHeader); err != nil {
		return err
	}
	for _, c := range cs {
		if err := cw.Write(c.row()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (c CDR) row() []string {
	return []string{c.ID, c.Caller, c.Callee, c.CallerTransport, c.CalleeTransport, c.CallerCodec, c.CalleeCodec,
		c.Mode, strconv.FormatBool(c.FellBack), FormatTime(c.Started), FormatTime(c.Answered), FormatTime(c.Ended),
		strconv.FormatFloat(c.Duration().Seconds(), 'f', 3, 64), c.EndEvent, c.Reason, c.EndedBy}
}

// FormatTime is t in RFC 3339 UTC with milliseconds, "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
