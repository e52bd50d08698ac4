package admission

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// reviewResponse is what appendReview writes, for encoding/json.
type reviewResponse struct {
	APIVersion string                         `json:"apiVersion"`
	Kind       string                         `json:"kind"`
	Response   *admissionv1.AdmissionResponse `json:"response"`
}

// TestAppendReviewIsEncodingJSON: the hand-written answer is byte for byte
// what encoding/json writes for it.
func TestAppendReviewIsEncodingJSON(t *testing.T) {
	withUID := func(r Response, uid string) admissionv1.AdmissionResponse {
		r.UID = types.UID(uid)
		return r.AdmissionResponse
	}
	patched := Patched([]byte(`[{"op":"add","path":"/metadata/labels","value":{"a":"<b>"}}]`), "first", `second "<&>"`)
	patched.AuditAnnotations = map[string]string{"z": "1", "injected-mutations": "a,b", "é\u2028": "\xff"}
	for _, tc := range []struct {
		name string
		r    admissionv1.AdmissionResponse
	}{
		{"allowed", withUID(Allowed(), "u1")},
		{"allowed with warnings", withUID(Allowed("w1", "w\n2"), "u2")},
		{"patched", withUID(patched, "e94a7790-a4fc-11e9-a276-42010a3e0104")},
		{"empty patch", withUID(Response{admissionv1.AdmissionResponse{Allowed: true, Patch: []byte{}}}, "u3")},
		{"denied", withUID(Denied(`mutation "x": <no>`, "w"), "u4")},
		{"errored", withUID(Errored(400, errors.New(`not "JSON"`)), `u"5`)},
	} {
		for _, version := range []string{"admission.k8s.io/v1", "admission.k8s.io/v1beta1"} {
			t.Run(tc.name+" "+version, func(t *testing.T) {
				want, err := json.Marshal(reviewResponse{APIVersion: version, Kind: "AdmissionReview", Response: &tc.r})
				if err != nil {
					t.Fatal(err)
				}
				got, err := appendReview(nil, version, "AdmissionReview", &tc.r)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("appendReview wrote\n%s\nencoding/json writes\n%s", got, want)
				}
			})
		}
	}
}

// TestAppendReviewKnowsEveryField fails when a new version of k8s.io/api
// gives AdmissionResponse a field that appendReview does not write.
func TestAppendReviewKnowsEveryField(t *testing.T) {
	written := []string{"uid", "allowed", "status,omitempty", "patch,omitempty", "patchType,omitempty", "auditAnnotations,omitempty", "warnings,omitempty"}
	var fields []string
	for f := range reflect.TypeFor[admissionv1.AdmissionResponse]().Fields() {
		fields = append(fields, f.Tag.Get("json"))
	}
	if !slices.Equal(fields, written) {
		t.Errorf("AdmissionResponse has the JSON fields %q; appendReview writes %q", fields, written)
	}
}
