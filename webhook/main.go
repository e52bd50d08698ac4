// Command sidecar-injector-webhook is the mutating admission webhook of the
// sidecar injector: the API server sends it each new Pod (and, where the
// webhook configuration routes them, workloads), and it answers with a JSON
// patch that adds the sidecars the pod's annotations ask for.
//
//	sidecar-injector-webhook --config PATH [--config PATH ...] \
//	    --tls-cert-file F --tls-key-file F [--port 8443] [--metrics-port 9090]
//
// A --config PATH is a file or a folder (a mounted ConfigMap). Config and
// certificate files are reloaded when they change; an invalid new config is
// refused and the last good one keeps serving. SIGTERM drains: readiness
// turns off, then the listener closes and requests in flight finish.
//
// The wiring lives here; the parts live in webhook/admission (AdmissionReview
// over HTTP), webhook/mutate (the engine adapter), webhook/jsonpatch,
// webhook/reload, webhook/server and webhook/metrics. docs/webhook.md is the
// operator's guide.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
	"github.com/sidecar-injector/sidecar-injector/webhook/mutate"
	"github.com/sidecar-injector/sidecar-injector/webhook/reload"
	"github.com/sidecar-injector/sidecar-injector/webhook/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sidecar-injector-webhook:", err)
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	configs           []string
	certFile, keyFile string
	bindAddress       string
	port, metricsPort int
	logFormat         string
	logLevel          slog.Level
	maxRequestBytes   int64
	configPoll        time.Duration
	certPoll          time.Duration
	shutdownDelay     time.Duration
	shutdownTimeout   time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("sidecar-injector-webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Func("config", "config file or folder (a mounted ConfigMap); repeat for several", func(s string) error {
		f.configs = append(f.configs, s)
		return nil
	})
	fs.StringVar(&f.certFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&f.keyFile, "tls-key-file", "", "serving certificate's private key (PEM)")
	fs.StringVar(&f.bindAddress, "bind-address", "", "address to listen on (all when empty)")
	fs.IntVar(&f.port, "port", 8443, "HTTPS port for /mutate, /healthz, /readyz")
	fs.IntVar(&f.metricsPort, "metrics-port", 9090, "HTTP port for /metrics, /healthz, /readyz")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log level: debug (one line per request), info, warn, error")
	fs.Int64Var(&f.maxRequestBytes, "max-request-bytes", admission.DefaultMaxRequestBytes, "largest AdmissionReview body accepted")
	fs.DurationVar(&f.configPoll, "config-poll-interval", 10*time.Second, "how often config files are checked besides file events")
	fs.DurationVar(&f.certPoll, "cert-poll-interval", 10*time.Second, "how often certificate files are checked besides file events")
	fs.DurationVar(&f.shutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, how long /readyz fails before the listener closes")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, the longest wait for requests in flight")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var missing []error
	if len(f.configs) == 0 {
		missing = append(missing, errors.New("--config is required"))
	}
	if f.certFile == "" || f.keyFile == "" {
		missing = append(missing, errors.New("--tls-cert-file and --tls-key-file are required"))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		missing = append(missing, fmt.Errorf("--log-format %q: want text or json", f.logFormat))
	}
	if fs.NArg() > 0 {
		missing = append(missing, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	return f, errors.Join(missing...)
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, f.logFormat, f.logLevel)
	// controller-runtime's certificate watcher logs through its own global
	// logger; route it to ours so that its lines share format and level.
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	configs, err := reload.New(reload.Options[*engine.Injector]{
		Paths: f.configs,
		Read:  func() ([]config.Source, error) { return config.ReadFiles(f.configs...) },
		Build: func(s []config.Source) (*engine.Injector, error) {
			inj, err := engine.Load(s...)
			if err == nil {
				// A config that builds goes into service: its warnings are
				// the ones to show.
				for _, w := range inj.Warnings() {
					log.Warn("config warning", "component", "config", "file", w.File, "line", w.Line, "warning", w.Message)
				}
				m.ConfigWarnings.Set(float64(len(inj.Warnings())))
			}
			return inj, err
		},
		Interval: f.configPoll,
		Log:      log.With("component", "config"),
		OnReload: func(err error) {
			if err != nil {
				m.ConfigReloads.WithLabelValues("failure").Inc()
				return
			}
			m.ConfigReloads.WithLabelValues("success").Inc()
			m.ConfigLastSuccess.SetToCurrentTime()
		},
	})
	if err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	m.ConfigLastSuccess.SetToCurrentTime()
	log.Info("config loaded", "paths", f.configs)

	handler := &mutate.Handler{
		Injector: func() mutate.Injector { return configs.Current() },
		Metrics:  m,
		Log:      log,
	}
	srv, err := server.New(server.Options{
		Addr:             net.JoinHostPort(f.bindAddress, strconv.Itoa(f.port)),
		MetricsAddr:      net.JoinHostPort(f.bindAddress, strconv.Itoa(f.metricsPort)),
		CertFile:         f.certFile,
		KeyFile:          f.keyFile,
		CertPollInterval: f.certPoll,
		MaxRequestBytes:  f.maxRequestBytes,
		ShutdownDelay:    f.shutdownDelay,
		ShutdownTimeout:  f.shutdownTimeout,
		Log:              log,
		Registry:         reg,
		Metrics:          m,
	}, handler)
	if err != nil {
		return err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() { _ = configs.Run(watchCtx) }()
	return srv.Serve(ctx)
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
