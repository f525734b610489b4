package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/convert"
)

// runConvert is `flashvox convert IN OUT [--codec C] [--rate HZ]` and
// `flashvox convert --out-dir DIR FILE…`. Exit 1 when a file failed.
func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	codecName := fs.String("codec", "nellymoser", "codec of .flv output: nellymoser, speex, pcmu, pcma")
	rate := fs.Int("rate", 0, "output sample rate in Hz (default: the first codec's rate for .wav, the codec's for .flv)")
	outDir := fs.String("out-dir", "", "convert every FILE into DIR (.flv → .wav, .wav → .flv), using all cores")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage:\n  flashvox convert IN OUT [--codec C] [--rate HZ]\n  flashvox convert --out-dir DIR [--codec C] [--rate HZ] FILE…\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleaved(fs, args)); err != nil {
		return exitConfig
	}
	id, ok := codec.ParseID(strings.ToLower(*codecName))
	if !ok {
		fmt.Fprintf(stderr, "flashvox convert: --codec %s: unknown codec\n", *codecName)
		return exitConfig
	}
	opts := convert.Options{Codec: id, Rate: *rate}
	files := fs.Args()
	if *outDir == "" {
		if len(files) != 2 {
			fs.Usage()
			return exitConfig
		}
		if err := convert.File(files[0], files[1], opts); err != nil {
			fmt.Fprintf(stderr, "flashvox convert: %s: %v\n", files[0], err)
			return exitFail
		}
		return 0
	}
	if len(files) == 0 {
		fs.Usage()
		return exitConfig
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "flashvox convert: %v\n", err)
		return exitFail
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog := newProgress(stdout, len(files))
	failed := convert.Batch(ctx, files, *outDir, convert.BatchOptions{Options: opts, Report: prog.done})
	prog.finish(failed)
	if failed > 0 {
		return exitFail
	}
	return 0
}

// interleaved moves flags after the positional arguments to the front, so
// `convert a.flv a.wav --rate 8000` works like the usage line says.
func interleaved(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if f := fs.Lookup(name); f != nil && !strings.Contains(name, "=") && i+1 < len(args) {
				if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool {
					i++
					flags = append(flags, args[i])
				}
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, rest...)
}

// progress reports a batch: on a terminal one bar redrawn in place, with
// failures printed above it; otherwise one plain line per file, for logs.
// It is hand-written (30 lines) rather than schollz/progressbar: one bar,
// no rate or ETA maths needed, and no new dependency for the server binary.
type progress struct {
	w        io.Writer
	tty      bool
	total, n int
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// done records one file; Batch calls it from one goroutine at a time.
func (p *progress) done(r convert.Result) {
	p.n++
	if !p.tty {
		if r.Err != nil {
			fmt.Fprintf(p.w, "FAIL %s: %v\n", r.In, r.Err)
		} else {
			fmt.Fprintf(p.w, "ok   %s -> %s\n", r.In, r.Out)
		}
		return
	}
	if r.Err != nil {
		fmt.Fprintf(p.w, "\r\033[KFAIL %s: %v\n", r.In, r.Err)
	}
	const width = 40
	fill := width * p.n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.n, p.total)
}

func (p *progress) finish(failed int) {
	if p.tty {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "%d converted, %d failed\n", p.total-failed, failed)
}
