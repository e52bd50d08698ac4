package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sidecar-injector/sidecar-injector/webhook/internal/load"
)

// floodOptions shape the flood run (-flood).
type floodOptions struct {
	pods        int           // large pods sent at once, half of them triggered
	rounds      int           // large pods each sender sends, one after the other
	items       int           // args of the large pods' first container
	limitMiB    int64         // the Deployment's memory limit, the goal for peak RSS
	settle      time.Duration // longest wait for RSS to come back after the flood
	ordinary    int           // clients sending ordinary pods throughout
	ordinaryGap time.Duration // pause between a client's ordinary pods
}

// flood measures the webhook under large pods: first one untriggered large
// pod alone (its latency and what it adds to RSS), then opts.pods senders
// of large pods, half triggered, while clients keep sending the ordinary
// review. It reports the peak RSS (VmHWM) against the memory limit, the
// ordinary pods' latency during the flood and whether all were answered,
// what the large pods got, and RSS after the flood against RSS before.
func flood(s *server, review []byte, opts floodOptions) error {
	triggered, untriggered, err := largeReviews(review, opts.items)
	if err != nil {
		return err
	}
	fmt.Printf("webhook flood run: %d large pods at once (%d args, %d bytes triggered, %d untriggered; half of each) x %d rounds, %d clients sending the ordinary review (%d bytes) every %v\n",
		opts.pods, opts.items, len(triggered), len(untriggered), opts.rounds, opts.ordinary, len(review), opts.ordinaryGap)

	// Warm up, then take the steady level.
	if _, err := s.load(review, opts.ordinary, 2*time.Second); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	start := memory(s.cmd.Process.Pid)

	alone := send(s, untriggered)
	afterAlone := memory(s.cmd.Process.Pid)
	fmt.Printf("  one untriggered large pod alone: %v in %v; RSS %s -> %s, peak %s\n",
		alone.outcome, alone.latency.Round(time.Millisecond), mib(start.rss), mib(afterAlone.rss), mib(afterAlone.hwm))
	if alone.outcome != "allowed" {
		return fmt.Errorf("the untriggered large pod was not admitted unchanged: %s", alone.outcome)
	}

	// The flood, with ordinary pods all along.
	ctx, stopOrdinary := context.WithCancel(context.Background())
	ordinaryDone := make(chan *load.Result, 1)
	go func() {
		r, _ := load.Run(ctx, load.Options{
			URL: s.url + "/mutate", Body: review, Client: s.client, Check: s.check,
			Clients: opts.ordinary, MaxRequests: 1 << 30, Duration: time.Hour, Pause: opts.ordinaryGap,
		})
		ordinaryDone <- r
	}()
	time.Sleep(200 * time.Millisecond)
	floodStart := time.Now()
	var mu sync.Mutex
	var large []answer
	var wg sync.WaitGroup
	for i := range opts.pods {
		body := untriggered
		if i%2 == 0 {
			body = triggered
		}
		wg.Go(func() {
			for range opts.rounds {
				a := send(s, body)
				a.triggered = i%2 == 0
				mu.Lock()
				large = append(large, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	floodTime := time.Since(floodStart)
	time.Sleep(200 * time.Millisecond)
	stopOrdinary()
	ordinary := <-ordinaryDone
	peak := memory(s.cmd.Process.Pid)

	// Back to the steady level?
	after := peak
	settled := time.Now()
	for time.Since(settled) < opts.settle {
		time.Sleep(250 * time.Millisecond)
		after = memory(s.cmd.Process.Pid)
		if after.rss <= start.rss+start.rss/2 {
			break
		}
	}

	fmt.Printf("  flood of %d large pods took %v\n", len(large), floodTime.Round(time.Millisecond))
	for _, trig := range []bool{true, false} {
		counts := map[string]int{}
		var lat []time.Duration
		for _, a := range large {
			if a.triggered == trig {
				counts[a.outcome]++
				lat = append(lat, a.latency)
			}
		}
		slices.Sort(lat)
		name := "untriggered"
		if trig {
			name = "triggered"
		}
		fmt.Printf("  large %-11s answers %v, latency max %v\n", name, counts, lat[len(lat)-1].Round(time.Millisecond))
	}
	fmt.Printf("  ordinary pods during the flood: %d sent, %d succeeded, %d failed; p50 %v, p99 %v, max %v\n",
		ordinary.Sent, ordinary.Succeeded, ordinary.Failed+ordinary.Refused, ordinary.Percentile(50).Round(time.Microsecond),
		ordinary.Percentile(99).Round(time.Microsecond), ordinary.Percentile(100).Round(time.Microsecond))
	limit := opts.limitMiB << 20
	fmt.Printf("\npeak RSS (VmHWM) %s, limit %s: %s\n", mib(peak.hwm), mib(limit), verdict(peak.hwm < limit))
	fmt.Printf("ordinary pods all answered: %s\n", verdict(ordinary.Failed+ordinary.Refused == 0 && ordinary.Succeeded > 0))
	fmt.Printf("RSS before the flood %s, right after %s, %v later %s: %s\n", mib(start.rss), mib(peak.rss),
		time.Since(settled).Round(100*time.Millisecond), mib(after.rss), verdict(after.rss <= start.rss+start.rss/2))

	var failed []string
	if peak.hwm >= limit {
		failed = append(failed, "peak RSS over the limit")
	}
	if ordinary.Failed+ordinary.Refused > 0 {
		failed = append(failed, fmt.Sprintf("%d ordinary pods failed: %q", ordinary.Failed+ordinary.Refused, ordinary.Errors))
	}
	if after.rss > start.rss+start.rss/2 {
		failed = append(failed, "RSS did not come back")
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// largeReviews makes two reviews of the ordinary review's pod with items
// empty args in its first container: one as it is (triggered), one with
// its triggers set to "false".
func largeReviews(review []byte, items int) (triggered, untriggered []byte, err error) {
	at := bytes.Index(review, []byte(`"containers":[{`))
	if at < 0 {
		return nil, nil, errors.New("the review's pod has no containers")
	}
	at += len(`"containers":[{`)
	args := `"args":[""` + strings.Repeat(`, ""`, items-1) + `],`
	triggered = slices.Concat(review[:at], []byte(args), review[at:])
	untriggered = bytes.ReplaceAll(triggered, []byte(`/inject":"true"`), []byte(`/inject":"false"`))
	if bytes.Equal(triggered, untriggered) {
		return nil, nil, errors.New(`the review's pod has no "…/inject": "true" trigger to turn off`)
	}
	return triggered, untriggered, nil
}

// answer is what one large pod got.
type answer struct {
	triggered bool
	outcome   string // allowed, patched, refused <code>, HTTP <status>, error
	latency   time.Duration
}

func send(s *server, body []byte) answer {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, s.url+"/mutate", bytes.NewReader(body))
	if err != nil {
		return answer{outcome: "error"}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{outcome: "error", latency: time.Since(start)}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	a := answer{latency: time.Since(start)}
	b := buf.Bytes()
	switch {
	case resp.StatusCode != http.StatusOK:
		a.outcome = "HTTP " + strconv.Itoa(resp.StatusCode)
	case bytes.Contains(b, []byte(`"allowed":true`)) && bytes.Contains(b, []byte(`"patch":`)):
		a.outcome = "patched"
	case bytes.Contains(b, []byte(`"allowed":true`)):
		a.outcome = "allowed"
	default:
		a.outcome = "refused"
		if i := bytes.Index(b, []byte(`"code":`)); i >= 0 {
			a.outcome += " " + string(b[i+7:i+10])
		}
	}
	return a
}

// rss is a process's resident memory now and at its peak (VmRSS, VmHWM).
type rss struct{ rss, hwm int64 }

func memory(pid int) rss {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss{}
	}
	var m rss
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "VmHWM:":
			m.hwm = kb << 10
		}
	}
	return m
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
