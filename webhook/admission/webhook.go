package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"

	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
)

// DefaultMaxRequestBytes caps a request body. An AdmissionReview holds at
// most two objects (old and new) of at most about 3 MiB each as JSON, plus
// a little envelope.
const DefaultMaxRequestBytes = 7 << 20

// SmallBody is the largest body read without reserving memory from the
// budget: an ordinary pod's review is a few KiB, and is never kept waiting
// behind large ones.
const SmallBody = 64 << 10

// supportedVersions are the AdmissionReview apiVersions the webhook reads;
// it answers in the one the request used.
var supportedVersions = map[string]bool{
	admissionv1.SchemeGroupVersion.String():      true,
	admissionv1beta1.SchemeGroupVersion.String(): true,
}

// Webhook serves AdmissionReviews over HTTP for one [Handler].
//
// Requests it cannot read as an AdmissionReview are answered with an HTTP
// error status (400, 405, 413, 415) and a one-line plain-text reason: the
// API server then applies the webhook configuration's failurePolicy.
// Everything else is answered with HTTP 200 and an AdmissionReview.
type Webhook struct {
	Handler Handler
	// MaxRequestBytes caps the request body; zero means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// Log receives one debug line per request and a warning per request
	// that could not be read. Nothing of the object is logged.
	Log *slog.Logger
	// Budget, when set, bounds the memory of the large bodies being read
	// and decoded at once: a body larger than SmallBody reserves twice its
	// size (the body and the objects copied out of it) before it is read.
	// One that cannot is answered 429 with Retry-After.
	Budget *budget.Budget

	buffers sync.Pool // *bytes.Buffer, reused across request bodies
}

// ServeHTTP reads the AdmissionReview, calls the handler and answers with
// its response in the review's apiVersion.
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	buf := wh.getBuffer()
	defer wh.putBuffer(buf)
	release, code, err := wh.readBody(w, r, buf)
	if err != nil {
		wh.fail(w, r, code, err)
		return
	}
	defer release()
	rv, err := decodeReview(buf.Bytes())
	if err != nil {
		wh.fail(w, r, http.StatusBadRequest, err)
		return
	}

	resp := wh.Handler.Handle(r.Context(), rv.Request)
	resp.UID = rv.Request.UID
	// The request body is no longer needed (decoding copied what it kept):
	// its buffer takes the answer.
	buf.Reset()
	answer := admissionv1.AdmissionReview{TypeMeta: rv.TypeMeta, Response: &resp.AdmissionResponse}
	if err := json.NewEncoder(buf).Encode(&answer); err != nil {
		// The response holds only strings, bytes and small structs; this
		// cannot fail short of a bug, and then the API server must not
		// take a half answer.
		wh.fail(w, r, http.StatusInternalServerError, fmt.Errorf("encoding AdmissionReview response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// With its length known, an answer larger than net/http's 2 KiB buffer
	// (any with a patch) goes out whole instead of in chunks.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if _, err := w.Write(buf.Bytes()); err != nil {
		wh.logger().Debug("writing response failed", "uid", rv.Request.UID, "error", err)
	}
	wh.logRequest(r.Context(), rv, &resp, time.Since(start))
}

// readBody reads the request's body into buf, after checking what can be
// checked before: method, content type, announced size, and, for a large
// body, room in the budget, which release gives back. Otherwise it returns
// the HTTP status to answer with and why.
func (wh *Webhook) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) (release func(), code int, err error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed, use POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q not supported, use application/json", ct)
	}
	limit := wh.MaxRequestBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	tooLarge := func() error { return fmt.Errorf("request body larger than the limit of %d bytes", limit) }
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, tooLarge()
	}
	size := r.ContentLength
	if size < 0 {
		size = limit // unknown until read: the most it may be
	}
	release = func() {}
	if wh.Budget != nil && size > SmallBody {
		if release, err = wh.Budget.Reserve(r.Context(), 2*size); err != nil {
			w.Header().Set("Retry-After", "1")
			return nil, http.StatusTooManyRequests, fmt.Errorf("request body of %d bytes: %w", size, err)
		}
	}
	if r.ContentLength > 0 {
		// Read into one allocation of the right size, not a series of
		// doublings (a 4 MB body would leave 8 MB of garbage).
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		release()
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge()
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
	return release, 0, nil
}

// decodeReview decodes body as an AdmissionReview of a version the webhook
// reads, with a request that has a uid. v1 and v1beta1 share the shape of
// the review.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("request body is empty, want an AdmissionReview")
	}
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &rv); err != nil {
		return nil, fmt.Errorf("request body is not an AdmissionReview: %w", err)
	}
	switch {
	case rv.Kind != "AdmissionReview" || !supportedVersions[rv.APIVersion]:
		return nil, fmt.Errorf("unsupported apiVersion %q kind %q, want admission.k8s.io/v1 or admission.k8s.io/v1beta1 AdmissionReview", rv.APIVersion, rv.Kind)
	case rv.Request == nil:
		return nil, errors.New("AdmissionReview has no request")
	case rv.Request.UID == "":
		return nil, errors.New("AdmissionReview request has no uid")
	}
	return &rv, nil
}

// logRequest writes the debug line of an answered request: who asked about
// what, and the answer, without anything of the object.
func (wh *Webhook) logRequest(ctx context.Context, rv *admissionv1.AdmissionReview, resp *Response, took time.Duration) {
	log := wh.logger()
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	req := rv.Request
	attrs := []any{
		"uid", req.UID, "apiVersion", rv.APIVersion,
		"kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name,
		"operation", req.Operation, "dryRun", req.DryRun != nil && *req.DryRun,
		"allowed", resp.Allowed, "patchBytes", len(resp.Patch), "warnings", len(resp.Warnings),
		"duration", took,
	}
	if resp.Result != nil {
		attrs = append(attrs, "code", resp.Result.Code, "message", resp.Result.Message)
	}
	for k, v := range resp.AuditAnnotations {
		attrs = append(attrs, k, v)
	}
	log.Debug("admission request", attrs...)
}

// fail answers a request that is not a readable AdmissionReview.
func (wh *Webhook) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	wh.logger().Warn("bad admission request", "status", code, "remote", r.RemoteAddr, "error", err)
	http.Error(w, err.Error(), code)
}

func (wh *Webhook) logger() *slog.Logger {
	if wh.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return wh.Log
}

func (wh *Webhook) getBuffer() *bytes.Buffer {
	if b, ok := wh.buffers.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// putBuffer keeps buf for the next request unless it grew past what a
// typical review needs, so one huge request does not pin its memory.
func (wh *Webhook) putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		wh.buffers.Put(buf)
	}
}

// isJSON accepts application/json with optional parameters (charset).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
