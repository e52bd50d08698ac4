// Command loadgen is the webhook's load benchmark. It starts the real
// webhook and the no-op webhook (the same server stack admitting
// everything unchanged) on loopback with a throw-away certificate, sends
// both the same AdmissionReview from the same number of concurrent
// clients in alternating rounds, and prints throughput and latency with
// the webhook's figures as ratios to the no-op's, measured in the same run.
//
//	loadgen -webhook bin/sidecar-injector-webhook -noop bin/webhook-noop \
//	    -config A.yaml -config B.yaml -review review.json
//
// The rounds alternate so that drift on a shared machine (other builds,
// thermal limits) falls on both sides alike.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
	"github.com/sidecar-injector/sidecar-injector/webhook/internal/load"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var configs stringList
	webhookBin := flag.String("webhook", "bin/sidecar-injector-webhook", "the webhook binary")
	noopBin := flag.String("noop", "bin/webhook-noop", "the no-op webhook binary (the floor)")
	flag.Var(&configs, "config", "webhook config file or folder (repeat)")
	reviewFile := flag.String("review", "webhook/loadgen/testdata/bench-review.json", "the AdmissionReview to send")
	clients := flag.Int("clients", 32, "concurrent clients")
	rounds := flag.Int("rounds", 3, "rounds per server, alternating")
	roundTime := flag.Duration("round", 5*time.Second, "length of one round")
	warmup := flag.Duration("warmup", 2*time.Second, "warm-up per server before the rounds")
	minThroughput := flag.Float64("goal-throughput", 0.6, "goal: webhook throughput at least this times the no-op's")
	maxP99 := flag.Float64("goal-p99", 2.0, "goal: webhook p99 latency at most this times the no-op's")
	gogc := flag.String("gogc", "400", "GOGC for both servers, as examples/webhook's Deployment sets it (empty: inherit)")
	floodRun := flag.Bool("flood", false, "instead of the load run: flood the webhook with large pods while ordinary ones keep coming (see flood.go)")
	var fo floodOptions
	flag.IntVar(&fo.pods, "flood-pods", 8, "flood: large pods sent at once, half of them triggered")
	flag.IntVar(&fo.rounds, "flood-rounds", 3, "flood: large pods each sender sends in turn")
	flag.IntVar(&fo.items, "flood-items", 1_000_000, "flood: empty args in a large pod's first container")
	flag.Int64Var(&fo.limitMiB, "memory-limit-mib", 256, "flood: the Deployment's memory limit, the goal for peak RSS")
	flag.DurationVar(&fo.settle, "settle", 10*time.Second, "flood: longest wait for RSS to come back after the flood")
	flag.IntVar(&fo.ordinary, "flood-ordinary", 4, "flood: clients sending the ordinary review throughout")
	flag.DurationVar(&fo.ordinaryGap, "flood-ordinary-pause", 10*time.Millisecond, "flood: each ordinary client's pause between requests")
	gomemlimit := flag.String("gomemlimit", "200MiB", "flood: GOMEMLIMIT of the webhook, as examples/webhook's Deployment sets it")
	var webhookArgs stringList
	flag.Var(&webhookArgs, "webhook-arg", "an extra argument for the webhook (repeat)")
	flag.Parse()
	if len(configs) == 0 {
		return errors.New("-config is required")
	}
	review, err := os.ReadFile(*reviewFile)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "webhook-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	certs, err := testcert.Write(dir, 1)
	if err != nil {
		return err
	}
	tlsFlags := []string{"--tls-cert-file", certs.Cert, "--tls-key-file", certs.Key, "--bind-address", "127.0.0.1"}

	var args []string
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	var env []string
	if *gogc != "" {
		env = []string{"GOGC=" + *gogc}
	}
	args = append(append(append(args, tlsFlags...), "--shutdown-delay", "0s"), webhookArgs...)
	if *floodRun {
		env = append(env, "GOMEMLIMIT="+*gomemlimit)
		fmt.Printf("webhook %s %s, %s\n", *webhookBin, strings.Join(webhookArgs, " "), strings.Join(env, " "))
	}
	webhook, err := startServer("webhook", *webhookBin, args, env, certs)
	if err != nil {
		return err
	}
	defer webhook.stop()
	// Both must answer what they are for before anything is measured.
	webhook.check = func(status int, body []byte) error {
		if status != 200 || !bytes.Contains(body, []byte(`"allowed":true`)) || !bytes.Contains(body, []byte(`"patch":`)) {
			return fmt.Errorf("webhook did not inject: status %d: %.300s", status, body)
		}
		return nil
	}
	if *floodRun {
		return flood(webhook, review, fo)
	}
	noop, err := startServer("no-op", *noopBin, tlsFlags, env, certs)
	if err != nil {
		return err
	}
	defer noop.stop()

	noop.check = func(status int, body []byte) error {
		if status != 200 || !bytes.Contains(body, []byte(`"allowed":true`)) {
			return fmt.Errorf("no-op did not admit: status %d: %.300s", status, body)
		}
		return nil
	}

	fmt.Printf("webhook load run: %d clients, %d alternating rounds of %v per server, review %s (%d bytes), servers with GOGC=%s\n",
		*clients, *rounds, *roundTime, *reviewFile, len(review), *gogc)
	for _, s := range []*server{noop, webhook} {
		if _, err := s.load(review, *clients, *warmup); err != nil {
			return fmt.Errorf("warm-up of %s: %w", s.name, err)
		}
	}
	for i := range *rounds {
		for _, s := range []*server{noop, webhook} {
			r, err := s.load(review, *clients, *roundTime)
			if err != nil {
				return fmt.Errorf("round %d of %s: %w", i+1, s.name, err)
			}
			fmt.Printf("  round %d %-8s %v\n", i+1, s.name, r)
		}
	}

	n, w := noop.total(), webhook.total()
	tRatio := w.Throughput() / n.Throughput()
	p99Ratio := float64(w.Percentile(99)) / float64(n.Percentile(99))
	fmt.Printf("\n%-8s %10s %10s %10s %8s %16s %16s\n", "server", "req/s", "p50", "p99", "failed", "server CPU/req", "loadgen CPU/req")
	for _, s := range []struct {
		srv *server
		r   *load.Result
	}{{noop, n}, {webhook, w}} {
		fmt.Printf("%-8s %10.0f %10v %10v %8d %16v %16v\n", s.srv.name, s.r.Throughput(), s.r.Percentile(50).Round(time.Microsecond),
			s.r.Percentile(99).Round(time.Microsecond), s.r.Failed,
			s.srv.cpuPerRequest(s.srv.cpu).Round(time.Microsecond), s.srv.cpuPerRequest(s.srv.clientCPU).Round(time.Microsecond))
	}
	fmt.Printf("\nratio webhook/no-op: throughput %.2fx (goal >= %.2fx: %s), p99 latency %.2fx (goal <= %.2fx: %s), p50 latency %.2fx\n",
		tRatio, *minThroughput, verdict(tRatio >= *minThroughput),
		p99Ratio, *maxP99, verdict(p99Ratio <= *maxP99),
		float64(w.Percentile(50))/float64(n.Percentile(50)))
	if n.Failed+w.Failed > 0 {
		return fmt.Errorf("%d requests failed; first errors: %q %q", n.Failed+w.Failed, n.Errors, w.Errors)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// server is one webhook process under test.
type server struct {
	name    string
	cmd     *exec.Cmd
	url     string
	client  *http.Client
	check   func(int, []byte) error
	results []*load.Result
	cpu     []time.Duration // the server's CPU time in each round
	// clientCPU is the load generator's own CPU time in each round.
	clientCPU []time.Duration
}

func startServer(name, bin string, args, env []string, certs *testcert.Files) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append(args, "--port", strconv.Itoa(port), "--metrics-port", strconv.Itoa(mport))...)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &server{
		name: name, cmd: cmd, url: fmt.Sprintf("https://127.0.0.1:%d", port),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: certs.Pool, ServerName: "localhost"},
			MaxIdleConnsPerHost: 256,
			// As the API server's webhook client (client-go's transport
			// takes http.DefaultTransport's), and shorter than the
			// servers' IdleTimeout: the client closes an idle connection
			// before the server would.
			IdleConnTimeout: 90 * time.Second,
		}},
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := s.client.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready within 15s", name)
		}
	}
}

func (s *server) load(review []byte, clients int, d time.Duration) (*load.Result, error) {
	cpu0, self0 := processCPU(s.cmd.Process.Pid), processCPU(os.Getpid())
	r, err := load.Run(context.Background(), load.Options{
		URL: s.url + "/mutate", Body: review, Client: s.client, Check: s.check,
		Clients: clients, MaxRequests: 1 << 30, Duration: d,
	})
	if err != nil {
		return nil, err
	}
	if r.Failed > 0 || r.Refused > 0 {
		return nil, fmt.Errorf("%v; first errors: %q", r, r.Errors)
	}
	s.results = append(s.results, r)
	s.cpu = append(s.cpu, processCPU(s.cmd.Process.Pid)-cpu0)
	s.clientCPU = append(s.clientCPU, processCPU(os.Getpid())-self0)
	return r, nil
}

// cpuPerRequest is a process's CPU time per successful request over the
// measured rounds, from s.cpu (the server's own: what it costs, without the
// load generator's share of the machine) or s.clientCPU.
func (s *server) cpuPerRequest(rounds []time.Duration) time.Duration {
	var cpu time.Duration
	var n int
	for i, r := range s.results[1:] {
		cpu += rounds[i+1]
		n += r.Succeeded
	}
	if n == 0 || cpu <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// processCPU reads a process's user and system CPU time from /proc (Linux;
// zero elsewhere). The kernel counts in clock ticks of 10 ms, fine over
// rounds of seconds.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	rest := string(data[bytes.LastIndexByte(data, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// total merges the measured rounds (the warm-up excluded).
func (s *server) total() *load.Result {
	t := &load.Result{}
	for _, r := range s.results[1:] {
		t.Sent += r.Sent
		t.Succeeded += r.Succeeded
		t.Failed += r.Failed
		t.Elapsed += r.Elapsed
		t.Latencies = append(t.Latencies, r.Latencies...)
	}
	slices.Sort(t.Latencies)
	return t
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
