// Package server runs the webhook's HTTPS server and its plain-HTTP metrics
// server around one admission handler: TLS 1.2+ with HTTP/2 off and
// certificates reloaded from disk, health and readiness, panic recovery,
// request metrics, and a graceful drain when its context ends.
//
// The same stack serves the real webhook and the no-op floor of the load
// benchmark, so that the benchmark measures only what injection adds.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"

	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
)

// mutatePath is where the API server sends AdmissionReviews.
const mutatePath = "/mutate"

// Options configure a [Server].
type Options struct {
	// Addr and MetricsAddr are listen addresses, such as ":8443" and
	// ":9090"; port 0 picks a free port (see Server.Addr).
	Addr, MetricsAddr string
	// CertFile and KeyFile hold the serving certificate (PEM). They are
	// re-read when they change and every CertPollInterval.
	CertFile, KeyFile string
	// CertPollInterval is the certificate poll period; zero means 10 s.
	CertPollInterval time.Duration
	// MaxRequestBytes caps an admission request body; zero means
	// admission.DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// Budget, when set, bounds the memory of the large request bodies
	// being read at once (see admission.Webhook.Budget).
	Budget *budget.Budget
	// ShutdownDelay is how long /readyz reports "not ready" before the
	// listener closes, so that the Service stops sending new requests
	// first.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the wait for requests in flight; zero means
	// 30 s (the API server's longest webhook timeout).
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds the TLS handshake, and the reading of a
	// request's headers from its first byte on; zero means 10 s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a connection may wait for its next request,
	// and a new one for its first; zero means 120 s. It must be longer than
	// the clients' own idle timeout (90 s for the API server, as for Go's
	// default transport), so that a client closes an idle connection before
	// the server does and never sends a request into one the server closed.
	IdleTimeout time.Duration
	// Log is the server's logger; nil discards.
	Log *slog.Logger
	// Registry serves /metrics; Metrics must be registered on it.
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics

	// firstRequestGrace is how long a drain waits for the first request of
	// a connection opened before it; zero means defaultFirstRequestGrace.
	// Tests lengthen it where a loaded machine could stall past it.
	firstRequestGrace time.Duration
}

// Server is a bound, not yet serving, webhook server.
type Server struct {
	opts     Options
	log      *slog.Logger
	certs    *certwatcher.CertWatcher
	tls      *tls.Config
	listener *firstRequestListener // set by Serve
	main     *http.Server
	metrics  *http.Server
	ln, mln  net.Listener
	ready    atomic.Bool
	draining atomic.Bool
	// closing is set once the listener has closed: every answer from then
	// on closes its connection (see closeWhenClosing).
	closing atomic.Bool
	// conns counts the admission server's open connections.
	conns atomic.Int64
}

// New loads the certificate and binds both listeners. Serving starts with
// Serve.
func New(opts Options, h admission.Handler) (*Server, error) {
	if opts.Registry == nil || opts.Metrics == nil {
		return nil, errors.New("server: Registry and Metrics are required")
	}
	opts = withDefaults(opts)
	s := &Server{opts: opts, log: opts.Log}
	certs, err := watchCertificates(opts)
	if err != nil {
		return nil, err
	}
	s.certs = certs
	s.tls = &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.GetCertificate,
		// HTTP/1.1 only: HTTP/2 has had denial-of-service flaws (rapid
		// reset) and the API server does not need it here.
		NextProtos: []string{"http/1.1"},
	}
	s.main = s.admissionServer(h)
	s.metrics = s.metricsServer()

	if s.ln, err = net.Listen("tcp", opts.Addr); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", opts.Addr, err)
	}
	if s.mln, err = net.Listen("tcp", opts.MetricsAddr); err != nil {
		s.ln.Close()
		return nil, fmt.Errorf("listening on %s for metrics: %w", opts.MetricsAddr, err)
	}
	return s, nil
}

// withDefaults fills in the options left at zero.
func withDefaults(opts Options) Options {
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	if opts.firstRequestGrace <= 0 {
		opts.firstRequestGrace = defaultFirstRequestGrace
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return opts
}

// watchCertificates loads the serving certificate, to be reloaded when its
// files change; each reload after the first load is counted and logged.
func watchCertificates(opts Options) (*certwatcher.CertWatcher, error) {
	certs, err := certwatcher.New(opts.CertFile, opts.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading serving certificate %s with key %s: %w", opts.CertFile, opts.KeyFile, err)
	}
	if opts.CertPollInterval > 0 {
		certs = certs.WithWatchInterval(opts.CertPollInterval)
	}
	first := true
	certs.RegisterCallback(func(c tls.Certificate) {
		// RegisterCallback calls back at once with the certificate already
		// loaded; only later calls are rotations.
		if first {
			first = false
			return
		}
		opts.Metrics.CertificateReloads.Inc()
		attrs := []any{"file", opts.CertFile}
		if c.Leaf != nil {
			attrs = append(attrs, "serial", c.Leaf.SerialNumber.String(), "notAfter", c.Leaf.NotAfter)
		}
		opts.Log.Info("serving certificate reloaded", attrs...)
	})
	return certs, nil
}

// admissionServer is the HTTPS server of /mutate, /healthz and /readyz.
func (s *Server) admissionServer(h admission.Handler) *http.Server {
	wh := &admission.Webhook{Handler: h, MaxRequestBytes: s.opts.MaxRequestBytes, Log: s.log, Budget: s.opts.Budget}
	mux := http.NewServeMux()
	m := s.opts.Metrics
	mux.Handle(mutatePath, promhttp.InstrumentHandlerDuration(m.Latency,
		promhttp.InstrumentHandlerCounter(m.Requests, s.recoverPanics(wh))))
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/readyz", s.readyz)
	return &http.Server{
		Handler: s.markBegun(s.closeWhenClosing(mux)),
		// TLS is terminated by the listener (see firstRequestListener).
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// A drain waits for each connection's first request to reach a
		// handler, or for the connection to close (see
		// firstRequestListener.stop and markBegun).
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.conns.Add(-1)
				s.listener.begun(c)
			}
		},
	}
}

// metricsServer is the plain-HTTP server of /metrics, /healthz and
// /readyz.
func (s *Server) metricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{Registry: s.opts.Registry}))
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/readyz", s.readyz)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// connKey is the request context key of the connection a request came on.
type connKey struct{}

// markBegun tells the listener that a connection's request has reached a
// handler. Not earlier: net/http drops a request whose reading ends after
// its shutdown began, and it sets the connection active (ConnState) just
// before checking that, so a drain that resumed on "active" could shut the
// server down in between and lose the request (seen in CI as "unexpected
// EOF" in TestDrainAndNewConnections).
func (s *Server) markBegun(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			s.listener.begun(c)
		}
		next.ServeHTTP(w, r)
	})
}

// closeWhenClosing asks the client to close its connection after each
// answer once the listener has closed. The shutdown closes the connections
// left idle between two requests, and a client (the API server among them)
// may be writing its next request into one just then: it cannot tell
// whether the request arrived, so it does not send it again, and the call
// fails. Answered with "Connection: close" first, a busy connection is
// closed by its client, whose next request dials anew: in a cluster the
// Service sends it to another replica (this one left the endpoints during
// the shutdown delay), here it is refused at connect.
func (s *Server) closeWhenClosing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Addr is the bound address of the HTTPS listener.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// MetricsAddr is the bound address of the metrics listener.
func (s *Server) MetricsAddr() net.Addr { return s.mln.Addr() }

// Serve serves until ctx ends, then drains: /readyz turns to 503, after
// ShutdownDelay the listeners close (new connections are refused, those
// opened just before get a moment to begin their request) and the requests
// in flight finish, up to ShutdownTimeout.
func (s *Server) Serve(ctx context.Context) error {
	certCtx, stopCerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCerts()
	certErr := make(chan error, 1)
	go func() { certErr <- s.certs.Start(certCtx) }()

	errs := make(chan error, 2)
	s.listener = newFirstRequestListener(s.ln, s.tls, s.opts.ReadHeaderTimeout, s.opts.IdleTimeout, s.log)
	go func() { errs <- s.main.Serve(s.listener) }()
	go func() { errs <- s.metrics.Serve(s.mln) }()
	s.ready.Store(true)
	s.log.Info("serving", "addr", s.Addr().String(), "metricsAddr", s.MetricsAddr().String(), "path", mutatePath)

	select {
	case err := <-errs:
		// A listener failed outside a shutdown: stop the other one too.
		s.ready.Store(false)
		_ = s.main.Close()
		_ = s.metrics.Close()
		return fmt.Errorf("server stopped: %w", err)
	case err := <-certErr:
		s.ready.Store(false)
		_ = s.main.Close()
		_ = s.metrics.Close()
		return fmt.Errorf("certificate watch stopped: %w", err)
	case <-ctx.Done():
	}

	s.log.Info("draining", "delay", s.opts.ShutdownDelay, "timeout", s.opts.ShutdownTimeout)
	s.draining.Store(true)
	s.ready.Store(false)
	time.Sleep(s.opts.ShutdownDelay)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	// New connections are refused from here; those opened just before get
	// a moment to begin their request, which is then served as any other
	// in flight.
	s.listener.stop(sctx, s.opts.firstRequestGrace)
	// Busy kept-alive connections get a moment to be closed by their
	// clients (see closeWhenClosing) before the shutdown closes those idle.
	s.closing.Store(true)
	for wait := time.Now().Add(s.opts.firstRequestGrace); s.conns.Load() > 0 && time.Now().Before(wait) && sctx.Err() == nil; {
		time.Sleep(10 * time.Millisecond)
	}
	err := s.main.Shutdown(sctx)
	if err != nil {
		err = fmt.Errorf("draining admission requests: %w", err)
	}
	_ = s.metrics.Shutdown(sctx)
	s.log.Info("stopped")
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok\n"))
}

// readyz is ready once the certificate and config are loaded (both happen
// before Serve) and until draining starts.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		msg := "not ready: starting\n"
		if s.draining.Load() {
			msg = "not ready: draining\n"
		}
		http.Error(w, msg, http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// recoverPanics answers 500 when the handler panics, and keeps serving: a
// failure on one pod must not take the webhook down for every other pod.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic while serving an admission request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			http.Error(w, "internal error while handling the admission request", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}
