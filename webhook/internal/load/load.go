// Package load sends AdmissionReviews to a webhook from concurrent clients,
// bounded by count and time, and tells apart what succeeded, what failed
// and what was refused at connect (a server that has stopped listening).
// The fault tests and the benchmark's load generator share it.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options bound and shape a run.
type Options struct {
	URL    string
	Body   []byte
	Client *http.Client
	// Clients is the number of concurrent clients.
	Clients int
	// MaxRequests and Duration bound the run; it stops sending at whichever
	// comes first, and ends when the requests in flight are answered, so
	// that the connections stay open for the next run on the same Client,
	// as the API server's do. When the context ends, requests in flight are
	// cut short. Both must be set.
	MaxRequests int
	Duration    time.Duration
	// Check judges an answer; nil accepts any 200. The body is valid
	// during the call only.
	Check func(status int, body []byte) error
	// StopWhenRefused ends a client at its first refused connection, for
	// runs against a server that is shutting down.
	StopWhenRefused bool
	// Pause is a client's wait after each answer: zero sends as fast as
	// the server answers; more is a steady trickle of requests.
	Pause time.Duration
}

// Result counts a run. Sent = Succeeded + Failed + Refused.
type Result struct {
	Sent, Succeeded, Failed, Refused int
	// Errors holds the first few failures, for the test's message.
	Errors    []string
	Latencies []time.Duration // of the successful requests, sorted
	Elapsed   time.Duration
}

// Throughput is successful requests per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Succeeded) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p <= 100) of the successful
// requests' latencies.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

func (r *Result) String() string {
	return fmt.Sprintf("sent %d, succeeded %d, failed %d, refused %d in %v (%.0f/s, p50 %v, p99 %v)",
		r.Sent, r.Succeeded, r.Failed, r.Refused, r.Elapsed.Round(time.Millisecond), r.Throughput(),
		r.Percentile(50), r.Percentile(99))
}

// Run sends requests until a bound is reached.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Clients <= 0 || o.MaxRequests <= 0 || o.Duration <= 0 || o.Client == nil {
		return nil, errors.New("load: Clients, MaxRequests, Duration and Client must be set")
	}
	deadline := time.Now().Add(o.Duration)

	var (
		budget atomic.Int64
		mu     sync.Mutex
		res    Result
		wg     sync.WaitGroup
	)
	budget.Store(int64(o.MaxRequests))
	start := time.Now()
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			// One buffer per client for the answers: reading each into a
			// new slice grows it several times for a 4 KB answer, work the
			// load generator would take from the server on a shared machine.
			var answer bytes.Buffer
			var ok, failed, refused int
			var errs []string
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				res.Latencies = append(res.Latencies, lat...)
				res.Succeeded += ok
				res.Failed += failed
				res.Refused += refused
				res.Sent += ok + failed + refused
				if room := 5 - len(res.Errors); room > 0 {
					res.Errors = append(res.Errors, errs[:min(room, len(errs))]...)
				}
			}()
			for ctx.Err() == nil && time.Now().Before(deadline) && budget.Add(-1) >= 0 {
				t0 := time.Now()
				err := send(ctx, o, &answer)
				switch {
				case err == nil:
					ok++
					lat = append(lat, time.Since(t0))
				case errors.Is(err, syscall.ECONNREFUSED):
					refused++
					if o.StopWhenRefused {
						return
					}
				case ctx.Err() != nil:
					// The caller ended the run while this request was in
					// flight: not the server's failure, and not counted as
					// sent.
					return
				default:
					failed++
					errs = append(errs, err.Error())
				}
				if o.Pause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(o.Pause):
					}
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return &res, nil
}

func send(ctx context.Context, o Options, answer *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, bytes.NewReader(o.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// The transport sends a request again only where it knows the server
	// did nothing with it: when none of it was written (Go's transport
	// always retries that, the API server's included), and, because of this
	// header, when the server closed a reused connection without answering
	// a byte, as net/http does to a connection it closes while idle (when
	// draining); the API server, which sends no such header, would fail
	// that call. An AdmissionReview may be sent twice (webhooks declare
	// sideEffects None). A request that broke after part of it was
	// written, or whose answer broke off, is not sent again and counts as
	// failed, whatever the cause: that is the server's failure to see.
	req.Header.Set("Idempotency-Key", "admission-review")
	resp, err := o.Client.Do(req)
	if err != nil {
		return err
	}
	answer.Reset()
	_, err = answer.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	body := answer.Bytes()
	if o.Check != nil {
		return o.Check(resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return nil
}
