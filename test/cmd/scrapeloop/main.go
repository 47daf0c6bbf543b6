// Command scrapeloop scrapes a metrics endpoint from several clients at
// once, each asking again as soon as its last scrape ended, until a time
// has passed, as Prometheus servers that scrape too often would; it
// prints the scrapes per second and the failures. Each client keeps its
// connection and takes the gzipped body without decompressing it, so
// that what it costs the machine is the endpoint's, not the client's.
//
//	scrapeloop -n 8 -for 10s http://127.0.0.1:9815/metrics
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 8, "concurrent scrapers")
	dur := flag.Duration("for", 10*time.Second, "how long to scrape")
	flag.Parse()
	if flag.NArg() != 1 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: scrapeloop [-n N] [-for D] URL")
		os.Exit(2)
	}
	ok, failed := run(flag.Arg(0), *n, *dur)
	fmt.Printf("scrapes_per_s %.1f\nfailed %d\n", float64(ok)/dur.Seconds(), failed)
	if ok == 0 {
		os.Exit(1)
	}
}

func run(url string, n int, dur time.Duration) (ok, failed int64) {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var okN, failN atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failN.Add(1)
					}
					continue
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if ctx.Err() != nil {
					break // cut off by the end, not a failure
				}
				if err != nil || res.StatusCode != http.StatusOK {
					failN.Add(1)
					continue
				}
				okN.Add(1)
			}
		})
	}
	wg.Wait()
	return okN.Load(), failN.Load()
}
