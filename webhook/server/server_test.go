package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
)

const review = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{"kind":"Pod"}}}`

type fixture struct {
	srv     *Server
	certs   *testcert.Files
	metrics *metrics.Metrics
	client  *http.Client
	base    string
	cancel  context.CancelFunc
	done    chan error
}

func start(t *testing.T, h admission.Handler, tweak func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	certs, err := testcert.Write(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	opts := Options{
		Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0",
		CertFile: certs.Cert, KeyFile: certs.Key, CertPollInterval: 100 * time.Millisecond,
		Registry: reg, Metrics: m, ShutdownTimeout: 5 * time.Second,
	}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := New(opts, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{
		srv: srv, certs: certs, metrics: m, cancel: cancel, done: make(chan error, 1),
		base: "https://" + srv.Addr().String(),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: certs.Pool, ServerName: "localhost"},
		}},
	}
	go func() { f.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-f.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return f
}

func (f *fixture) post(t *testing.T) (int, string, error) {
	t.Helper()
	resp, err := f.client.Post(f.base+mutatePath, "application/json", strings.NewReader(review))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

var allow = admission.HandlerFunc(func(context.Context, *admission.Request) admission.Response { return admission.Allowed() })

func TestServesAdmissionOverTLS(t *testing.T) {
	f := start(t, allow, nil)
	code, body, err := f.post(t)
	if err != nil || code != 200 || !strings.Contains(body, `"allowed":true`) || !strings.Contains(body, `"uid":"u1"`) {
		t.Fatalf("POST /mutate = %d %q, %v", code, body, err)
	}
	if got := counter(t, f.metrics.Requests.WithLabelValues("200")); got != 1 {
		t.Errorf("requests_total{code=200} = %v, want 1", got)
	}
	var latency dto.Metric
	if err := f.metrics.Latency.WithLabelValues().(prometheus.Histogram).Write(&latency); err != nil {
		t.Fatal(err)
	}
	if got := latency.GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("request_duration_seconds count = %v, want 1", got)
	}
}

func TestTLSPolicy(t *testing.T) {
	f := start(t, allow, nil)
	addr := f.srv.Addr().String()
	for _, tc := range []struct {
		name    string
		cfg     *tls.Config
		wantErr bool
		wantALP string
	}{
		{"TLS 1.1 refused", &tls.Config{MaxVersion: tls.VersionTLS11}, true, ""},
		{"TLS 1.2 accepted", &tls.Config{MaxVersion: tls.VersionTLS12}, false, ""},
		{"TLS 1.3 accepted", &tls.Config{MinVersion: tls.VersionTLS13}, false, ""},
		{"h2 not offered back", &tls.Config{NextProtos: []string{"h2", "http/1.1"}}, false, "http/1.1"},
		{"h2 only refused", &tls.Config{NextProtos: []string{"h2"}}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.RootCAs, tc.cfg.ServerName = f.certs.Pool, "localhost"
			conn, err := tls.Dial("tcp", addr, tc.cfg)
			if tc.wantErr {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake succeeded with %s, want refusal", tc.name)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			if got := conn.ConnectionState().NegotiatedProtocol; tc.wantALP != "" && got != tc.wantALP {
				t.Errorf("negotiated %q, want %q", got, tc.wantALP)
			}
		})
	}
}

func TestPanicAnswers500AndKeepsServing(t *testing.T) {
	var calls int
	var mu sync.Mutex
	h := admission.HandlerFunc(func(context.Context, *admission.Request) admission.Response {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			panic("handler bug")
		}
		return admission.Allowed()
	})
	f := start(t, h, nil)
	if code, body, err := f.post(t); err != nil || code != 500 || !strings.Contains(body, "internal error") {
		t.Fatalf("panicking request = %d %q, %v; want 500", code, body, err)
	}
	if code, _, err := f.post(t); err != nil || code != 200 {
		t.Fatalf("request after the panic = %d, %v; want 200", code, err)
	}
	if got := counter(t, f.metrics.Requests.WithLabelValues("500")); got != 1 {
		t.Errorf("requests_total{code=500} = %v, want 1", got)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	f := start(t, allow, nil)
	mbase := "http://" + f.srv.MetricsAddr().String()
	for _, u := range []string{f.base + "/healthz", f.base + "/readyz", mbase + "/healthz", mbase + "/readyz", mbase + "/metrics"} {
		resp, err := f.client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d %s", u, resp.StatusCode, body)
		}
		if strings.HasSuffix(u, "/metrics") && !bytes.Contains(body, []byte("sidecar_injector_webhook_config_reloads_total")) {
			t.Errorf("/metrics lacks the webhook's series:\n%s", body)
		}
	}
}

func TestCertificateRotation(t *testing.T) {
	f := start(t, allow, nil)
	serial := func() int64 {
		conn, err := tls.Dial("tcp", f.srv.Addr().String(), &tls.Config{RootCAs: f.certs.Pool, ServerName: "localhost"})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serving serial %d, want 1", got)
	}
	if _, err := testcert.Rotate(dirOf(f.certs.Cert), 2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for serial() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("rotated certificate not served within 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for deadline := time.Now().Add(2 * time.Second); counter(t, f.metrics.CertificateReloads) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("certificate_reloads_total not incremented")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDrainFinishesInFlightAndRefusesNew(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := admission.HandlerFunc(func(context.Context, *admission.Request) admission.Response {
		close(entered)
		<-release
		return admission.Allowed()
	})
	f := start(t, h, func(o *Options) { o.ShutdownDelay = 300 * time.Millisecond })
	type result struct {
		code int
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		code, _, err := f.post(t)
		inflight <- result{code, err}
	}()
	<-entered
	f.cancel()

	// During the delay the server still answers but reports not ready.
	time.Sleep(100 * time.Millisecond)
	resp, err := f.client.Get(f.base + "/readyz")
	if err != nil {
		t.Fatalf("readyz during the shutdown delay: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read whole, the connection stays in the client's pool
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining = %d, want 503", resp.StatusCode)
	}

	// After the delay the listener is closed: new connections are refused.
	time.Sleep(400 * time.Millisecond)
	fresh := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.certs.Pool, ServerName: "localhost"}}}
	if _, err := fresh.Get(f.base + "/healthz"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new connection after the delay: %v, want connection refused", err)
	}
	// A kept-alive connection is still served, and asked to close: the
	// shutdown will close it once idle, which its client could be sending
	// a request into.
	resp, err = f.client.Get(f.base + "/healthz")
	if err != nil {
		t.Fatalf("a kept-alive connection after the delay: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf(`a kept-alive connection after the delay: %d, closed after the answer %v; want 200 and "Connection: close"`, resp.StatusCode, resp.Close)
	}

	close(release)
	if r := <-inflight; r.err != nil || r.code != 200 {
		t.Fatalf("in-flight request = %d, %v; want 200", r.code, r.err)
	}
	if err := <-f.done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	f.done <- nil // for the cleanup
}

func dirOf(p string) string { return p[:strings.LastIndexByte(p, '/')] }

// counter reads a counter's value.
func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestConnectionTimeouts: a connection may wait for its first request as
// long as a kept-alive one waits for its next (IdleTimeout), and a request,
// once begun, must bring its headers within ReadHeaderTimeout.
//
// The first row is how the load run failed once in tens of thousands of
// requests with "write: broken pipe": Go's transport (the API server's too)
// dials connections ahead of need and keeps those it did not use in its
// pool; net/http's server closed them ReadHeaderTimeout after accepting
// them, and a client that took one just then wrote its request into a
// closed connection.
func TestConnectionTimeouts(t *testing.T) {
	const header, idle = 300 * time.Millisecond, 4 * time.Second // idle: wide of the rows that wait 3*header, on a loaded machine
	f := start(t, allow, func(o *Options) { o.ReadHeaderTimeout, o.IdleTimeout = header, idle })
	request := func(conn *tls.Conn) error { return f.postOn(conn) }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, conn *tls.Conn)
	}{
		{"a new connection is served after waiting longer than the header timeout", func(t *testing.T, conn *tls.Conn) {
			time.Sleep(3 * header)
			if err := request(conn); err != nil {
				t.Fatalf("request on a connection idle since its handshake: %v", err)
			}
		}},
		{"a kept-alive connection is served after waiting longer than the header timeout", func(t *testing.T, conn *tls.Conn) {
			if err := request(conn); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * header)
			if err := request(conn); err != nil {
				t.Fatalf("second request: %v", err)
			}
		}},
		{"a new connection that sends nothing is closed after the idle timeout", func(t *testing.T, conn *tls.Conn) {
			waitClosed(t, conn, idle)
		}},
		{"a request whose headers do not come is closed after the header timeout", func(t *testing.T, conn *tls.Conn) {
			if _, err := io.WriteString(conn, "POST /mutate HTTP/1.1\r\n"); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, conn, header)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn := f.dial(t)
			defer conn.Close()
			tc.run(t, conn)
		})
	}
}

// dial opens a connection and completes its handshake.
func (f *fixture) dial(t *testing.T) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", f.srv.Addr().String(), &tls.Config{RootCAs: f.certs.Pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// postOn sends the review on conn and reads the answer, which must be a
// 200.
func (f *fixture) postOn(conn *tls.Conn) error {
	req, _ := http.NewRequest(http.MethodPost, f.base+mutatePath, strings.NewReader(review))
	req.Header.Set("Content-Type", "application/json")
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// waitClosed checks that the server closes conn after about after.
func waitClosed(t *testing.T, conn *tls.Conn, after time.Duration) {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(after + 5*time.Second))
	_, err := conn.Read(make([]byte, 1))
	took := time.Since(start)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v (read: %v)", took.Round(time.Millisecond), err)
	}
	if took < after*8/10 {
		t.Errorf("connection closed after %v, before the %v it was due", took.Round(time.Millisecond), after)
	}
}

// TestDrainAndNewConnections: a drain serves the first request of a
// connection opened before it, when the request comes as the drain begins
// (net/http would drop a request it reads once shutting down), and closes a
// connection that stays silent after a moment, not after the idle timeout.
func TestDrainAndNewConnections(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		run   func(t *testing.T, f *fixture, conn *tls.Conn)
	}{
		// A generous grace: a loaded machine may stall the server past the
		// default one before it reads the request.
		{"request as the drain begins", 10 * time.Second, func(t *testing.T, f *fixture, conn *tls.Conn) {
			time.Sleep(100 * time.Millisecond) // the listener is closed by now
			if err := f.postOn(conn); err != nil {
				t.Fatalf("request on a new connection as the drain began: %v", err)
			}
		}},
		{"no request", 0, func(t *testing.T, f *fixture, conn *tls.Conn) {
			waitClosed(t, conn, defaultFirstRequestGrace)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, allow, func(o *Options) { o.firstRequestGrace = tc.grace })
			conn := f.dial(t)
			defer conn.Close()
			f.cancel()
			tc.run(t, f, conn)
			if err := <-f.done; err != nil {
				t.Fatalf("Serve returned %v", err)
			}
			f.done <- nil // for the cleanup
		})
	}
}
