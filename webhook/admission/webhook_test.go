package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
)

// echo records the request it saw and answers with a fixed patch.
type echo struct{ got *Request }

func (e *echo) Handle(_ context.Context, req *Request) Response {
	e.got = req
	return Patched([]byte(`[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]`), "a warning")
}

func serve(t *testing.T, wh *Webhook, method, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/mutate", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, r)
	return w
}

func TestAnswersInTheRequestVersion(t *testing.T) {
	for _, tc := range []struct{ file, version, uid string }{
		{"testdata/v1.json", "admission.k8s.io/v1", "uid-v1"},
		{"testdata/v1beta1.json", "admission.k8s.io/v1beta1", "uid-v1beta1"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			body, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			h := &echo{}
			w := serve(t, &Webhook{Handler: h}, http.MethodPost, "application/json; charset=utf-8", body)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if h.got == nil || h.got.Namespace != "team-a" || string(h.got.Object.Raw) != `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}` {
				t.Fatalf("handler saw %+v", h.got)
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			pt := admissionv1.PatchTypeJSONPatch
			want := &admissionv1.AdmissionResponse{
				UID: types.UID(tc.uid), Allowed: true, PatchType: &pt,
				Patch:    []byte(`[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]`),
				Warnings: []string{"a warning"},
			}
			if out.APIVersion != tc.version || out.Kind != "AdmissionReview" {
				t.Errorf("answered %s %s, want %s AdmissionReview", out.APIVersion, out.Kind, tc.version)
			}
			if diff := cmp.Diff(want, out.Response); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRejectsWhatIsNotAnAdmissionReview(t *testing.T) {
	good, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		method, ct  string
		body        string
		code        int
		wantMessage string
	}{
		{"GET", http.MethodGet, "application/json", string(good), 405, "method GET not allowed"},
		{"empty body", http.MethodPost, "application/json", "", 400, "request body is empty"},
		{"blank body", http.MethodPost, "application/json", " \n", 400, "request body is empty"},
		{"not JSON", http.MethodPost, "application/json", "hello", 400, "not an AdmissionReview: invalid character 'h'"},
		{"truncated JSON", http.MethodPost, "application/json", string(good[:len(good)/2]), 400, "unexpected end of JSON input"},
		{"wrong content type", http.MethodPost, "text/plain", string(good), 415, `content type "text/plain" not supported`},
		{"no content type", http.MethodPost, "", string(good), 415, `content type "" not supported`},
		{"no request", http.MethodPost, "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, 400, "AdmissionReview has no request"},
		{"no uid", http.MethodPost, "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`, 400, "request has no uid"},
		{"unknown apiVersion", http.MethodPost, "application/json", strings.Replace(string(good), "admission.k8s.io/v1", "admission.k8s.io/v2", 1), 400, `unsupported apiVersion "admission.k8s.io/v2"`},
		{"wrong kind", http.MethodPost, "application/json", strings.Replace(string(good), `"kind":"AdmissionReview"`, `"kind":"Pod"`, 1), 400, `kind "Pod"`},
		{"over the cap", http.MethodPost, "application/json", string(good) + strings.Repeat(" ", 1000), 413, "larger than the limit of 1000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &echo{}
			w := serve(t, &Webhook{Handler: h, MaxRequestBytes: 1000}, tc.method, tc.ct, []byte(tc.body))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.wantMessage) {
				t.Errorf("got %d %q, want %d containing %q", w.Code, w.Body, tc.code, tc.wantMessage)
			}
			if h.got != nil {
				t.Error("the handler was called for a bad request")
			}
		})
	}
}

// TestAnswersWithItsLength: an answer larger than net/http's buffer (a
// patch of a few sidecars is) goes out with its length, not in chunks.
func TestAnswersWithItsLength(t *testing.T) {
	body, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`[{"op":"add","path":"/metadata/labels","value":{"a":"` + strings.Repeat("b", 8000) + `"}}]`)
	srv := httptest.NewServer(&Webhook{Handler: HandlerFunc(func(context.Context, *Request) Response { return Patched(patch) })})
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) > 0 || resp.ContentLength != int64(len(answer)) {
		t.Errorf("status %d, transfer encoding %q, length %d for an answer of %d bytes", resp.StatusCode, resp.TransferEncoding, resp.ContentLength, len(answer))
	}
}

// A large body reserves room in the budget before it is read; one that
// cannot is answered 429 with Retry-After, while small bodies are read
// whatever the budget holds.
func TestBodyBudget(t *testing.T) {
	small, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	large := bytes.Replace(small, []byte(`"name":"p"`), []byte(`"name":"p","padding":"`+strings.Repeat("x", SmallBody)+`"`), 1)
	b := budget.New(4*SmallBody, 10*time.Millisecond)
	wh := &Webhook{Handler: &echo{}, Budget: b}

	if w := serve(t, wh, http.MethodPost, "application/json", large); w.Code != http.StatusOK {
		t.Fatalf("large body with room: status %d: %s", w.Code, w.Body)
	}
	held, err := b.Reserve(context.Background(), 3*SmallBody)
	if err != nil {
		t.Fatal(err)
	}
	w := serve(t, wh, http.MethodPost, "application/json", large)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "memory not available within 10ms") {
		t.Errorf("large body without room: status %d, Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := serve(t, wh, http.MethodPost, "application/json", small); w.Code != http.StatusOK {
		t.Errorf("small body without room: status %d: %s", w.Code, w.Body)
	}
	held()

	// A body announced larger than the cap is refused before it is read.
	r := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(large))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	(&Webhook{Handler: &echo{}, MaxRequestBytes: SmallBody}).ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the cap: status %d: %s", rec.Code, rec.Body)
	}
}
