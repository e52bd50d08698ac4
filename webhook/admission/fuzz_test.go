package admission

import (
	"context"
	"net/http"
	"os"
	"testing"
)

// FuzzServeHTTP sends any body: the webhook answers 200 with a review or
// 400/413 with a reason, and the handler sees only requests with a uid.
func FuzzServeHTTP(f *testing.F) {
	for _, file := range []string{"testdata/v1.json", "testdata/v1beta1.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := HandlerFunc(func(_ context.Context, req *Request) Response {
			if req.UID == "" {
				t.Error("handler called without a uid")
			}
			return Allowed()
		})
		w := serve(t, &Webhook{Handler: h, MaxRequestBytes: 1 << 16}, http.MethodPost, "application/json", body)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		if w.Code != http.StatusOK && w.Body.Len() == 0 {
			t.Fatalf("status %d without a reason", w.Code)
		}
	})
}
