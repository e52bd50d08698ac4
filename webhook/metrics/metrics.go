// Package metrics defines the webhook's Prometheus metrics. They are
// registered on a registry the caller passes in, never on a global one, so
// that tests and several servers in one process do not collide.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "sidecar_injector_webhook"

// Metrics are the webhook's own series.
type Metrics struct {
	// Requests counts HTTP requests to the admission path by status code.
	Requests *prometheus.CounterVec
	// Latency observes the time to answer one admission request (a vector
	// without labels, as promhttp's instrumentation takes).
	Latency *prometheus.HistogramVec
	// Responses counts admission answers by outcome: patched, unchanged,
	// denied, errored.
	Responses *prometheus.CounterVec
	// Injections counts, per mutation, what happened to it on a pod:
	// injected, warning, skipped (failed under failurePolicy Ignore),
	// failed.
	Injections *prometheus.CounterVec
	// ConfigReloads counts config reloads by outcome: success, failure.
	ConfigReloads *prometheus.CounterVec
	// ConfigLastSuccess is the Unix time of the last config load that was
	// taken into service.
	ConfigLastSuccess prometheus.Gauge
	// ConfigWarnings is the number of warnings of the config in service
	// (each is logged when the config is loaded).
	ConfigWarnings prometheus.Gauge
	// CertificateReloads counts serving certificates taken into service
	// after the first.
	CertificateReloads prometheus.Counter
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "requests_total",
			Help: "Admission HTTP requests by status code.",
		}, []string{"code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "request_duration_seconds",
			Help:    "Time to answer an admission HTTP request.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, nil),
		Responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "admission_responses_total",
			Help: "Admission answers by outcome (patched, unchanged, denied, errored).",
		}, []string{"outcome"}),
		Injections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "injections_total",
			Help: "Mutations applied to admitted objects, by mutation and outcome (injected, warning, skipped under failurePolicy Ignore, failed).",
		}, []string{"mutation", "outcome"}),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "config_reloads_total",
			Help: "Config reloads by outcome (success, failure). A failed reload keeps the last good config.",
		}, []string{"outcome"}),
		ConfigLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last config load taken into service.",
		}),
		ConfigWarnings: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_warnings",
			Help: "Warnings of the config in service (each is logged when it is loaded).",
		}),
		CertificateReloads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "certificate_reloads_total",
			Help: "Serving certificates taken into service after the first one.",
		}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.Responses, m.Injections,
		m.ConfigReloads, m.ConfigLastSuccess, m.ConfigWarnings, m.CertificateReloads)
	// Pre-create the outcomes so that dashboards see zeros, not gaps.
	for _, o := range []string{"success", "failure"} {
		m.ConfigReloads.WithLabelValues(o)
	}
	for _, o := range []string{"patched", "unchanged", "denied", "errored"} {
		m.Responses.WithLabelValues(o)
	}
	return m
}

// RegisterBuildInfo registers sidecar_injector_build_info, a gauge at 1
// whose labels say which build is running, on reg.
func RegisterBuildInfo(reg prometheus.Registerer, version, commit, goVersion string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sidecar_injector_build_info",
		Help:        "Which build of the injector is running: a constant 1 labelled with its version, VCS commit and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": goVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}
