// Command noopwebhook is the load benchmark's floor: the webhook's own
// server stack (TLS, HTTP, AdmissionReview decoding and answering, metrics,
// panic recovery) with a handler that admits every object unchanged. The
// benchmark runs it beside the real webhook under the same load, so that
// its figures are ratios to what the stack alone costs on this machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
	"github.com/sidecar-injector/sidecar-injector/webhook/server"
)

func main() {
	cert := flag.String("tls-cert-file", "", "serving certificate (PEM)")
	key := flag.String("tls-key-file", "", "serving key (PEM)")
	bind := flag.String("bind-address", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8443, "HTTPS port")
	metricsPort := flag.Int("metrics-port", 9090, "metrics port")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))
	reg := prometheus.NewRegistry()
	srv, err := server.New(server.Options{
		Addr:        net.JoinHostPort(*bind, strconv.Itoa(*port)),
		MetricsAddr: net.JoinHostPort(*bind, strconv.Itoa(*metricsPort)),
		CertFile:    *cert, KeyFile: *key,
		Log:      log,
		Registry: reg, Metrics: metrics.New(reg),
	}, admission.HandlerFunc(func(context.Context, *admission.Request) admission.Response {
		return admission.Allowed()
	}))
	if err == nil {
		err = srv.Serve(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "noopwebhook:", err)
		os.Exit(1)
	}
}
