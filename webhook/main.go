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
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/internal/buildinfo"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
	"github.com/sidecar-injector/sidecar-injector/webhook/mutate"
	"github.com/sidecar-injector/sidecar-injector/webhook/reload"
	"github.com/sidecar-injector/sidecar-injector/webhook/server"
)

const name = "sidecar-injector-webhook"

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the server could not start or stopped on an error
	exitUsage = 2 // bad command line
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultMaxRequestMemory suits the example Deployment's 256 MiB limit
// with GOMEMLIMIT=200MiB: the steady heap is a few tens of MiB.
const defaultMaxRequestMemory = 128 << 20

// flags are the command line. The server's own settings go straight into
// its options.
type flags struct {
	configs           []string
	server            server.Options
	bindAddress       string
	port, metricsPort int
	logFormat         string
	logLevel          slog.Level
	maxRequestMemory  int64
	requestMemoryWait time.Duration
	configPoll        time.Duration
	version           bool
}

const usageHeader = `Usage: sidecar-injector-webhook --config PATH [--config PATH ...] --tls-cert-file F --tls-key-file F [flags]

The sidecar injector's mutating admission webhook (docs/webhook.md). Config and
certificate files are reloaded when they change; SIGTERM drains.

Flags:
`

// parseFlags reads the command line. Its usage text goes to the caller
// (--help prints it on stdout), never straight to a stream.
func parseFlags(args []string) (*flags, *flag.FlagSet, error) {
	f := &flags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Func("config", "config file or folder (a mounted ConfigMap); repeat for several", func(s string) error {
		f.configs = append(f.configs, s)
		return nil
	})
	fs.StringVar(&f.server.CertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&f.server.KeyFile, "tls-key-file", "", "serving certificate's private key (PEM)")
	fs.StringVar(&f.bindAddress, "bind-address", "", "address to listen on (all when empty)")
	fs.IntVar(&f.port, "port", 8443, "HTTPS port for /mutate, /healthz, /readyz")
	fs.IntVar(&f.metricsPort, "metrics-port", 9090, "HTTP port for /metrics, /healthz, /readyz")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "log level: debug (one line per request), info, warn, error")
	fs.Int64Var(&f.server.MaxRequestBytes, "max-request-bytes", admission.DefaultMaxRequestBytes, "largest AdmissionReview body accepted")
	fs.Int64Var(&f.maxRequestMemory, "max-request-memory", defaultMaxRequestMemory, "memory that large request bodies and the pods decoded whole may hold at once, in bytes; keep it under GOMEMLIMIT with room for the steady heap")
	fs.DurationVar(&f.requestMemoryWait, "request-memory-wait", 2*time.Second, "how long a request waits for room in --max-request-memory before it is refused")
	fs.DurationVar(&f.configPoll, "config-poll-interval", 10*time.Second, "how often config files are checked besides file events")
	fs.DurationVar(&f.server.CertPollInterval, "cert-poll-interval", 10*time.Second, "how often certificate files are checked besides file events")
	fs.DurationVar(&f.server.ShutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, how long /readyz fails before the listener closes")
	fs.DurationVar(&f.server.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, the longest wait for requests in flight")
	if err := fs.Parse(args); err != nil {
		return f, fs, err
	}
	if f.version {
		return f, fs, nil
	}
	var missing []error
	if len(f.configs) == 0 {
		missing = append(missing, errors.New("--config is required"))
	}
	if f.server.CertFile == "" || f.server.KeyFile == "" {
		missing = append(missing, errors.New("--tls-cert-file and --tls-key-file are required"))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		missing = append(missing, fmt.Errorf("--log-format %q: want text or json", f.logFormat))
	}
	if f.maxRequestMemory < 2*f.server.MaxRequestBytes {
		missing = append(missing, fmt.Errorf("--max-request-memory %d must hold a body of --max-request-bytes %d twice (the body and the objects copied out of it)", f.maxRequestMemory, f.server.MaxRequestBytes))
	}
	if fs.NArg() > 0 {
		missing = append(missing, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	return f, fs, errors.Join(missing...)
}

// usage is the --help text.
func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString(usageHeader)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// run is the command: --help and --version on stdout, everything else
// logged on stderr in the --log-format asked for, from the first line on,
// command-line and start-up errors included. It returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, fs, err := parseFlags(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage(fs))
		return exitOK
	case err == nil && f.version:
		fmt.Fprintln(stdout, name, buildinfo.Read())
		return exitOK
	}
	format := f.logFormat
	if err != nil && format != "json" {
		// Parsing stops at the first mistake: a --log-format after it is
		// looked up so that the error is logged as asked.
		format = logFormatIn(args)
	}
	log := newLogger(stderr, format, f.logLevel)
	if err != nil {
		log.Error("bad command line (--help lists the flags)", "error", err)
		return exitUsage
	}
	if err := serve(ctx, f, log); err != nil {
		log.Error("stopped", "error", err)
		return exitError
	}
	return exitOK
}

// logFormatIn finds the value of --log-format in args that did not parse.
func logFormatIn(args []string) string {
	for i, a := range args {
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case a == "--":
			return ""
		case flagName != "log-format" || !strings.HasPrefix(a, "-"):
		case hasValue:
			return value
		case i+1 < len(args):
			return args[i+1]
		}
	}
	return ""
}

// serve runs the webhook until ctx ends.
func serve(ctx context.Context, f *flags, log *slog.Logger) error {
	info := buildinfo.Read()
	log.Info("starting", "version", info.Version, "commit", info.Commit, "goversion", info.GoVersion)
	// controller-runtime's certificate watcher logs through its own global
	// logger; route it to ours so that its lines share format and level.
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	metrics.RegisterBuildInfo(reg, info.Version, info.Commit, info.GoVersion)

	configs, err := watchConfigs(f, log, m)
	if err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	log.Info("config loaded", "paths", f.configs)

	memory := budget.New(f.maxRequestMemory, f.requestMemoryWait)
	handler := &mutate.Handler{
		Injector: func() mutate.Injector { return configs.Current() },
		Metrics:  m,
		Log:      log,
		Budget:   memory,
	}
	opts := f.server
	opts.Addr = net.JoinHostPort(f.bindAddress, strconv.Itoa(f.port))
	opts.MetricsAddr = net.JoinHostPort(f.bindAddress, strconv.Itoa(f.metricsPort))
	opts.Budget, opts.Log, opts.Registry, opts.Metrics = memory, log, reg, m
	srv, err := server.New(opts, handler)
	if err != nil {
		return err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() { _ = configs.Run(watchCtx) }()
	return srv.Serve(ctx)
}

// watchConfigs loads the --config paths into an injector, to be built
// again when they change; each load's warnings are logged, and the reloads
// counted.
func watchConfigs(f *flags, log *slog.Logger, m *metrics.Metrics) (*reload.Watcher[*engine.Injector], error) {
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
	if err == nil {
		m.ConfigLastSuccess.SetToCurrentTime()
	}
	return configs, err
}

// newLogger logs in text or JSON. Durations are written as strings with
// their unit ("2.4ms"): slog's JSON handler would write bare nanoseconds.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindDuration {
			a.Value = slog.StringValue(a.Value.Duration().String())
		}
		return a
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
