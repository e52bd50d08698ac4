// Package admission turns HTTP requests carrying an AdmissionReview
// (admission.k8s.io/v1 or v1beta1) into calls of a [Handler], and the
// handler's [Response] into an AdmissionReview of the same version.
//
// It follows the shape of controller-runtime's pkg/webhook/admission: the
// HTTP side (content type, size cap, decoding, versions) lives in [Webhook];
// a [Handler] sees only the decoded request and knows nothing of HTTP, so it
// can be tested with plain structs.
//
// It does not use controller-runtime's admission.Webhook itself, which
// reads a body of unknown size by doublings (a 4 MB pod would leave 8 MB of
// garbage that the memory budget does not see) and decodes through
// apimachinery's codec: serving the load benchmark's review with an
// allowing handler took it 97 to 112 µs and 97 allocations, against 55 to
// 66 µs and 58 here, when a whole injecting request takes about 170 µs
// (the webhook's throughput goal is half the no-op's).
package admission

import (
	"context"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Request is the decoded admission request. Both API versions share this
// shape; the version the review came in is kept by [Webhook] to answer in it.
type Request = admissionv1.AdmissionRequest

// Handler decides on one admission request.
type Handler interface {
	Handle(ctx context.Context, req *Request) Response
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, req *Request) Response

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) Response { return f(ctx, req) }

// Response is a handler's answer. [Webhook] fills in the request's UID.
type Response struct {
	admissionv1.AdmissionResponse
}

// Allowed admits the object unchanged.
func Allowed(warnings ...string) Response {
	return Response{admissionv1.AdmissionResponse{Allowed: true, Warnings: warnings}}
}

// Patched admits the object with a JSON patch (RFC 6902). An empty patch
// admits it unchanged.
func Patched(patch []byte, warnings ...string) Response {
	r := Allowed(warnings...)
	if len(patch) > 0 {
		pt := admissionv1.PatchTypeJSONPatch
		r.Patch = patch
		r.PatchType = &pt
	}
	return r
}

// Denied refuses the object; message is shown to the user who created it.
func Denied(message string, warnings ...string) Response {
	return Response{admissionv1.AdmissionResponse{
		Allowed:  false,
		Warnings: warnings,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: message,
		},
	}}
}

// Errored refuses a request the handler could not process, for example an
// object that does not decode; code is an HTTP status such as 400.
func Errored(code int32, err error) Response {
	return Response{admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    code,
			Message: err.Error(),
		},
	}}
}
