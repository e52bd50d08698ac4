// Package mutate is the admission handler that injects sidecars: it turns
// an admission request's object into a resource node, lets the engine
// inject into it, and answers with the JSON patch of the engine's edits.
//
// Its cost is bounded whatever a client sends. Of an object larger than an
// ordinary pod, it first decodes only what the engine reads to decide
// whether any mutation applies (the object's metadata:
// engine.Injector.Outline), and answers a pod that asks for nothing from
// that alone, however large its spec. It decodes the rest
// only after reserving, from a memory budget shared by the requests in
// flight, what decoding it takes; a pod that does not fit is refused with
// a message that says why.
//
// No injection logic lives here. What to inject, when, and what a failure
// means (a mutation's failurePolicy) is the engine's; this package only
// translates between the wire and the engine, and says "no" when the
// engine reports an error, so that no pod is admitted without a sidecar it
// must have.
package mutate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
	"github.com/sidecar-injector/sidecar-injector/webhook/jsonpatch"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
)

// Injector is what the handler needs of the engine; *engine.Injector is
// one.
type Injector interface {
	Outline() jsonnode.Outline
	Triggered(resource *yaml.RNode, opts engine.Options) (*engine.Report, bool)
	Inject(resource *yaml.RNode, opts engine.Options) *engine.Report
}

// auditKey is the audit annotation that lists the mutations applied to an
// admitted object (the API server records it as
// "<webhook name>/injected-mutations").
const auditKey = "injected-mutations"

// Handler is the injecting [admission.Handler].
type Handler struct {
	// Injector returns the injector in service; it changes when the config
	// is reloaded, so the handler asks for it on every request.
	Injector func() Injector
	// Metrics, when set, counts outcomes and injections.
	Metrics *metrics.Metrics
	// Log receives a line per denied request (no object content).
	Log *slog.Logger
	// Budget, when set, bounds the memory of the objects being decoded
	// whole at once (see package budget).
	Budget *budget.Budget

	// outlineFromBytes replaces outlineFrom's default, for tests that
	// send small objects through the outline.
	outlineFromBytes int

	// decoders are reused across requests: each decodes an object into
	// blocks of nodes it keeps (see jsonnode.Decoder).
	decoders sync.Pool
}

// maxPooledObject is the largest object whose decoder goes back to the
// pool: one huge object must not keep its blocks (about ten times its size)
// alive for the requests after it.
const maxPooledObject = 64 << 10

var _ admission.Handler = (*Handler)(nil)

// Handle injects into the object of a CREATE (or of an UPDATE of a
// workload other than a Pod, whose template may change).
func (h *Handler) Handle(ctx context.Context, req *admission.Request) admission.Response {
	resp := h.handle(ctx, req)
	if h.Metrics != nil {
		h.Metrics.Responses.WithLabelValues(outcome(resp)).Inc()
	}
	return resp
}

func (h *Handler) handle(ctx context.Context, req *admission.Request) admission.Response {
	switch {
	case req.SubResource != "":
		return admission.Allowed()
	case req.Operation == admissionv1.Create:
	case req.Operation == admissionv1.Update && !(req.Kind.Group == "" && req.Kind.Kind == "Pod"):
	default:
		// A pod's containers cannot change after creation, so an UPDATE is
		// admitted as it is; DELETE and CONNECT carry no object to inject.
		return admission.Allowed()
	}
	if len(req.Object.Raw) == 0 {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("%s request for %s has no object", req.Operation, kindOf(req)))
	}

	inj := h.Injector()
	opts := engine.Options{Namespace: req.Namespace}
	if len(req.Object.Raw) >= h.outlineFrom() {
		outline, _, err := jsonnode.DecodeOutline(req.Object.Raw, inj.Outline())
		if err != nil {
			return notJSON(req, err)
		}
		if outline.Kind != yaml.MappingNode {
			return notAnObject(req)
		}
		if report, triggered := inj.Triggered(yaml.NewRNode(outline), opts); !triggered {
			// Nothing to inject: the answer is the one Inject would give
			// for the whole object, which it would leave as it is.
			return h.respond(req, nil, report)
		}
	}

	release, refusal := h.reserve(ctx, req, req.Object.Raw)
	if refusal != nil {
		return *refusal
	}
	defer release()
	// The object's tree lives until this function returns: what the answer
	// keeps (the patch, messages) is encoded or copied out of it before.
	dec := h.decoder()
	defer h.putDecoder(dec, len(req.Object.Raw))
	node, err := dec.Decode(req.Object.Raw)
	if err != nil {
		return notJSON(req, err)
	}
	if node.Kind != yaml.MappingNode {
		return notAnObject(req)
	}
	return h.respond(req, node, inj.Inject(yaml.NewRNode(node), opts))
}

// outlineFrom is the size from which an object is read in outline before it
// is decoded whole: reading an ordinary pod twice costs more than decoding
// it once (on the load benchmark's pod, 3 KB, the outline and Triggered
// take 59 µs, decoding it whole 24 µs), and a small object costs little
// whatever it asks for.
func (h *Handler) outlineFrom() int {
	if h.outlineFromBytes != 0 {
		return h.outlineFromBytes
	}
	return admission.SmallBody
}

func notJSON(req *admission.Request, err error) admission.Response {
	return admission.Errored(http.StatusBadRequest, fmt.Errorf("request.object (%s) is not valid JSON: %w", kindOf(req), err))
}

func notAnObject(req *admission.Request) admission.Response {
	return admission.Errored(http.StatusBadRequest, fmt.Errorf("request.object (%s) is not a JSON object", kindOf(req)))
}

// reserve holds room in the budget for decoding raw whole, or returns the
// refusal to answer with.
func (h *Handler) reserve(ctx context.Context, req *admission.Request, raw []byte) (func(), *admission.Response) {
	if h.Budget == nil {
		return func() {}, nil
	}
	release, err := h.Budget.Reserve(ctx, jsonnode.DecodeCost(raw))
	if err == nil {
		return release, nil
	}
	code, hint := int32(http.StatusRequestEntityTooLarge), "the pod is too large to inject"
	var be *budget.Error
	if errors.As(err, &be) && be.Busy {
		code, hint = http.StatusTooManyRequests, "retry"
	}
	h.logger().Info("refused: memory budget", "uid", req.UID, "kind", kindOf(req), "namespace", req.Namespace, "name", req.Name, "bytes", len(raw), "error", err)
	resp := admission.Errored(code, fmt.Errorf("sidecar-injector: decoding %s (%d bytes of JSON) %w; %s", kindOf(req), len(raw), err, hint))
	return nil, &resp
}

// respond answers with what the engine reported on the object, node as
// the engine left it (nil when it was not decoded whole: then the report
// lists no edits).
func (h *Handler) respond(req *admission.Request, node *yaml.Node, report *engine.Report) admission.Response {
	h.count(report)
	warnings := make([]string, 0, len(report.Warnings)+1)
	for _, w := range report.Warnings {
		warnings = append(warnings, "sidecar-injector: "+w.String())
	}
	if !report.Workload {
		warnings = append(warnings, fmt.Sprintf("sidecar-injector: %s holds no pod template the injector knows; admitted unchanged", kindOf(req)))
		return admission.Allowed(warnings...)
	}
	if err := report.Err(); err != nil {
		h.logger().Warn("denied", "uid", req.UID, "kind", kindOf(req), "namespace", req.Namespace, nameOf(req, node), "error", err)
		return admission.Denied("sidecar-injector: "+err.Error(), warnings...)
	}

	patch, err := marshalPatch(report)
	h.countInjected(report, err == nil)
	if err != nil {
		// Admitting without the patch would admit a pod without its
		// sidecars: refuse instead. The refusal is an answer, not an HTTP
		// error, so the API server refuses the pod whatever the webhook's
		// failurePolicy.
		h.logger().Error("writing the patch failed", "uid", req.UID, "kind", kindOf(req), "namespace", req.Namespace, nameOf(req, node), "error", err)
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("sidecar-injector: writing the patch: %w", err))
	}
	resp := admission.Patched(patch, warnings...)
	if len(report.Injected) > 0 {
		names := make([]string, len(report.Injected))
		for i, in := range report.Injected {
			names[i] = in.Mutation
		}
		resp.AuditAnnotations = map[string]string{auditKey: strings.Join(names, ",")}
	}
	return resp
}

func (h *Handler) decoder() *jsonnode.Decoder {
	if d, ok := h.decoders.Get().(*jsonnode.Decoder); ok {
		return d
	}
	return new(jsonnode.Decoder)
}

func (h *Handler) putDecoder(d *jsonnode.Decoder, objectSize int) {
	if objectSize <= maxPooledObject {
		h.decoders.Put(d)
	}
}

// errEditsIncomplete is the answer to an object the engine changed in a
// way its edit list does not describe. The engine lists every edit it makes
// to an object shaped as a Kubernetes object, which is all the API server
// sends (it lists them incompletely only with Options.Upgrade, which the
// webhook does not use): this is a bug, and the pod is refused rather than
// admitted without its sidecars.
var errEditsIncomplete = errors.New("bug: the engine changed the object in a way its edit list does not describe; refused rather than admitted without its sidecars")

// marshalPatch writes the engine's edits as the JSON patch from the object
// as it came to the object as the engine left it.
func marshalPatch(r *engine.Report) ([]byte, error) {
	if !r.EditsComplete {
		return nil, errEditsIncomplete
	}
	return jsonpatch.Marshal(r.Edits)
}

// countInjected records the mutations the engine injected: as injected
// when the answer carries them, else as failed.
func (h *Handler) countInjected(r *engine.Report, answered bool) {
	if h.Metrics == nil {
		return
	}
	outcome := "injected"
	if !answered {
		outcome = "failed"
	}
	for _, in := range r.Injected {
		h.Metrics.Injections.WithLabelValues(in.Mutation, outcome).Inc()
	}
}

// count records per mutation what else the engine did: warnings, mutations
// skipped or failed.
func (h *Handler) count(r *engine.Report) {
	if h.Metrics == nil {
		return
	}
	skipped := map[string]bool{}
	for _, me := range r.Skipped {
		skipped[me.Mutation] = true
		h.Metrics.Injections.WithLabelValues(me.Mutation, "skipped").Inc()
	}
	for _, w := range r.Warnings {
		if w.Mutation != "" && !skipped[w.Mutation] {
			h.Metrics.Injections.WithLabelValues(w.Mutation, "warning").Inc()
		}
	}
	for _, err := range r.Errors {
		var me *engine.MutationError
		if errors.As(err, &me) {
			h.Metrics.Injections.WithLabelValues(me.Mutation, "failed").Inc()
		}
	}
}

// nameOf is the object's name for a log line, or its generateName when the
// API server has not named it yet (a pod of a ReplicaSet). Both come from
// the request and are cut to a Kubernetes name's 253 bytes: the object is
// not validated yet.
func nameOf(req *admission.Request, object *yaml.Node) slog.Attr {
	rn := yaml.NewRNode(object)
	key, value := "name", req.Name
	if value == "" {
		value, _ = rn.GetString("metadata.name")
	}
	if value == "" {
		key = "generateName"
		value, _ = rn.GetString("metadata.generateName")
	}
	if len(value) > 253 {
		value = value[:253] + "..."
	}
	return slog.String(key, value)
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func outcome(r admission.Response) string {
	switch {
	case r.Allowed && len(r.Patch) > 0:
		return "patched"
	case r.Allowed:
		return "unchanged"
	case r.Result != nil && r.Result.Code == http.StatusForbidden:
		return "denied"
	default:
		return "errored"
	}
}

func kindOf(req *admission.Request) string {
	gv := req.Kind.Version
	if req.Kind.Group != "" {
		gv = req.Kind.Group + "/" + gv
	}
	return gv + " " + req.Kind.Kind
}
