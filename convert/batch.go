package convert

import (
	"context"
	"runtime"
	"sync"
)

// Result is the outcome of one file of a Batch.
type Result struct {
	In, Out string
	Err     error
}

// BatchOptions tune Batch.
type BatchOptions struct {
	Options
	// Workers is how many files convert at once (0: GOMAXPROCS, all cores).
	Workers int
	// Report is called once per file as it ends, from one goroutine at a
	// time, in completion order.
	Report func(Result)
}

// Batch converts each of files into dir (see OutputName), several at once.
// A file that fails is reported and the others still convert; Batch returns
// how many failed. Files not started when ctx ends fail with its error.
func Batch(ctx context.Context, files []string, dir string, opts BatchOptions) (failed int) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan string)
	var mu sync.Mutex // serialises Report and guards failed
	var wg sync.WaitGroup
	for range min(workers, len(files)) {
		wg.Go(func() {
			for in := range jobs {
				res := Result{In: in}
				if res.Err = ctx.Err(); res.Err == nil {
					if res.Out, res.Err = OutputName(dir, in); res.Err == nil {
						res.Err = File(in, res.Out, opts.Options)
					}
				}
				mu.Lock()
				if res.Err != nil {
					failed++
				}
				if opts.Report != nil {
					opts.Report(res)
				}
				mu.Unlock()
			}
		})
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	return failed
}
