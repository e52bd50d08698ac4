package admission

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// appendReview appends the AdmissionReview that answers in apiVersion with
// r, byte for byte as encoding/json writes a reviewResponse (a test holds
// the two together, and fails when AdmissionResponse gains a field that
// this does not write). It is written by hand because every answer is one:
// encoding/json's reflection and its streaming base64 of the patch cost a
// patched answer more than its bytes do.
func appendReview(b []byte, apiVersion, kind string, r *admissionv1.AdmissionResponse) ([]byte, error) {
	b = append(b, `{"apiVersion":`...)
	b = jsonnode.AppendString(b, apiVersion)
	b = append(b, `,"kind":`...)
	b = jsonnode.AppendString(b, kind)
	b = append(b, `,"response":{"uid":`...)
	b = jsonnode.AppendString(b, string(r.UID))
	b = append(b, `,"allowed":`...)
	b = strconv.AppendBool(b, r.Allowed)
	if r.Result != nil {
		// Only refusals carry one: not worth writing by hand.
		status, err := json.Marshal(r.Result)
		if err != nil {
			return nil, fmt.Errorf("encoding the status: %w", err)
		}
		b = append(b, `,"status":`...)
		b = append(b, status...)
	}
	if len(r.Patch) > 0 {
		b = append(b, `,"patch":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Patch)
		b = append(b, '"')
	}
	if r.PatchType != nil {
		b = append(b, `,"patchType":`...)
		b = jsonnode.AppendString(b, string(*r.PatchType))
	}
	if len(r.AuditAnnotations) > 0 {
		b = append(b, `,"auditAnnotations":{`...)
		for i, k := range slices.Sorted(maps.Keys(r.AuditAnnotations)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonnode.AppendString(b, k)
			b = append(b, ':')
			b = jsonnode.AppendString(b, r.AuditAnnotations[k])
		}
		b = append(b, '}')
	}
	if len(r.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range r.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonnode.AppendString(b, w)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...), nil
}
