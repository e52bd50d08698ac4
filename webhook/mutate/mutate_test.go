package mutate

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
	"github.com/sidecar-injector/sidecar-injector/internal/patchtest"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
	"github.com/sidecar-injector/sidecar-injector/webhook/budget"
	"github.com/sidecar-injector/sidecar-injector/webhook/metrics"
)

// compat is the Salesforce injector's corpus, beside the repository.
const compat = "../../engine/testdata/compat/salesforce"

func TestHandle(t *testing.T) {
	own := []string{"testdata/sidecar-injector.yaml"}
	salesforce := []string{filepath.Join(compat, "sidecarconfigs.yaml"), filepath.Join(compat, "mutationconfigs.yaml")}
	for _, tc := range []struct {
		review   string
		config   []string
		allowed  bool
		patched  bool
		code     int32    // of a refusal
		message  string   // part of a refusal's message
		warnings []string // parts of the warnings, in order
		audit    string   // the injected-mutations audit annotation
		contains []string // parts of the patched object's JSON
	}{
		{review: filepath.Join(compat, "admissionreview.json"), config: salesforce, allowed: true, patched: true, audit: "keymaker,madkub",
			contains: []string{`"name":"keymaker-client"`, `"name":"madkub-refresher"`, `"keymaker.k8s-integration.sfdc.com/status":"injected"`}},
		{review: "pod-logging.json", config: own, allowed: true, patched: true, audit: "logging",
			contains: []string{`"name":"log-shipper"`, `{"name":"logs","mountPath":"/logs"}`}},
		{review: "pod-dry-run.json", config: own, allowed: true, patched: true, audit: "logging",
			contains: []string{`"name":"log-shipper"`}},
		// The trigger as a label, for a mutation that reads annotations only.
		{review: "pod-no-annotations.json", config: own, allowed: true, warnings: []string{`label "logging.example.com/inject" is ignored`}},
		{review: "pod-namespace-from-request.json", config: own, allowed: true, patched: true, audit: "namespaced",
			contains: []string{`"--namespace=team-b"`}},
		{review: "pod-fail.json", config: own, code: 403,
			message: `sidecar-injector: mutation "strict": sidecar "needs-role"`},
		{review: "pod-ignore.json", config: own, allowed: true, patched: true, audit: "logging",
			warnings: []string{`mutation "lenient": not injected (failurePolicy Ignore)`}, contains: []string{`"name":"log-shipper"`}},
		{review: "pod-bad-trigger-value.json", config: own, allowed: true, warnings: []string{"logging.example.com/inject"}},
		{review: "pod-update.json", config: own, allowed: true},
		{review: "pod-kube-system.json", config: own, allowed: true},
		{review: "deployment.json", config: own, allowed: true, patched: true, audit: "logging",
			contains: []string{`"template":{"metadata":{"labels":{"app":"web"},"annotations":{"logging.example.com/inject":"true","logging.example.com/status":"injected"`}},
		{review: "configmap.json", config: own, allowed: true, warnings: []string{"v1 ConfigMap holds no pod template the injector knows; admitted unchanged"}},
		{review: "object-not-an-object.json", config: own, code: 400, message: "request.object (v1 Pod) is not a JSON object"},
		{review: "delete.json", config: own, allowed: true},
	} {
		t.Run(strings.TrimSuffix(filepath.Base(tc.review), ".json"), func(t *testing.T) {
			inj, err := engine.LoadFiles(tc.config...)
			if err != nil {
				t.Fatal(err)
			}
			h := &Handler{Injector: func() Injector { return inj }}
			path := tc.review
			if !strings.Contains(path, "/") {
				path = filepath.Join("testdata", path)
			}
			req := readRequest(t, path)
			resp := h.Handle(context.Background(), req)
			// Read in outline first, as a large object is, the answer is
			// the same.
			outlined := &Handler{Injector: func() Injector { return inj }, outlineFromBytes: 1}
			if diff := cmp.Diff(resp, outlined.Handle(context.Background(), req)); diff != "" {
				t.Errorf("read in outline first, the answer differs (-whole +outline):\n%s", diff)
			}

			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v (result %+v)", resp.Allowed, tc.allowed, resp.Result)
			}
			if !tc.allowed {
				if resp.Result == nil || resp.Result.Code != tc.code || !strings.Contains(resp.Result.Message, tc.message) {
					t.Fatalf("result %+v, want code %d and a message containing %q", resp.Result, tc.code, tc.message)
				}
			}
			if len(resp.Warnings) != len(tc.warnings) {
				t.Errorf("warnings %q, want %d containing %q", resp.Warnings, len(tc.warnings), tc.warnings)
			}
			for i := range min(len(resp.Warnings), len(tc.warnings)) {
				if !strings.Contains(resp.Warnings[i], tc.warnings[i]) {
					t.Errorf("warning %d = %q, want it to contain %q", i, resp.Warnings[i], tc.warnings[i])
				}
			}
			if got := resp.AuditAnnotations[auditKey]; got != tc.audit {
				t.Errorf("audit annotation %q, want %q", got, tc.audit)
			}
			if (len(resp.Patch) > 0) != tc.patched {
				t.Fatalf("patch %s, want patched=%v", resp.Patch, tc.patched)
			}
			if !tc.patched {
				return
			}

			patched := checkPatch(t, inj, req, resp.Patch)
			for _, s := range tc.contains {
				if !strings.Contains(string(patched), s) {
					t.Errorf("patched object lacks %s:\n%s", s, patched)
				}
			}

			// The API server may call again (reinvocationPolicy IfNeeded):
			// the injected object must come back unchanged.
			again := *req
			again.Object.Raw = patched
			if r := h.Handle(context.Background(), &again); !r.Allowed || len(r.Patch) != 0 {
				t.Errorf("second call on the injected object: allowed=%v patch %s", r.Allowed, r.Patch)
			}
		})
	}
}

// checkPatch applies the patch to the request's object and compares the
// result with what the engine makes of the same object on its own. It
// also holds the patch to its promise: nothing of the object is removed.
func checkPatch(t *testing.T, inj *engine.Injector, req *admission.Request, patch []byte) []byte {
	t.Helper()
	var ops []struct{ Op, Path string }
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("patch is not JSON: %v\n%s", err, patch)
	}
	for _, op := range ops {
		if op.Op != "add" && op.Op != "replace" {
			t.Errorf("patch has %s %s; only add and replace are expected", op.Op, op.Path)
		}
	}
	patched, err := patchtest.Apply(req.Object.Raw, patch)
	if err != nil {
		t.Fatal(err)
	}

	node, err := jsonnode.Decode(req.Object.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if rep := inj.Inject(yaml.NewRNode(node), engine.Options{Namespace: req.Namespace}); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	want, err := jsonnode.Marshal(node)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decode(t, want), decode(t, patched)); diff != "" {
		t.Errorf("patched object differs from the engine's (-engine +patched):\n%s", diff)
	}
	return patched
}

func readRequest(t testing.TB, path string) *admission.Request {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rv struct{ Request *admission.Request }
	if err := json.Unmarshal(data, &rv); err != nil || rv.Request == nil {
		t.Fatalf("%s: not an AdmissionReview: %v", path, err)
	}
	return rv.Request
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// TestHandleCountsOutcomes: a mutation left out under failurePolicy Ignore
// is counted as skipped, not as a mere warning, so that an alert can tell a
// pod admitted without a best-effort sidecar from a pod with a typo.
func TestHandleCountsOutcomes(t *testing.T) {
	inj, err := engine.LoadFiles("testdata/sidecar-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	h := &Handler{Injector: func() Injector { return inj }, Metrics: m}
	h.Handle(context.Background(), readRequest(t, "testdata/pod-ignore.json"))
	for _, tc := range []struct {
		mutation, outcome string
		want              float64
	}{
		{"lenient", "skipped", 1},
		{"lenient", "warning", 0},
		{"logging", "injected", 1},
	} {
		if got := testutil.ToFloat64(m.Injections.WithLabelValues(tc.mutation, tc.outcome)); got != tc.want {
			t.Errorf("injections_total{mutation=%q,outcome=%q} = %v, want %v", tc.mutation, tc.outcome, got, tc.want)
		}
	}
}

// incompleteEdits is an injector whose engine injects but cannot list
// every change it made, which only a bug can cause for an object from the
// API server.
type incompleteEdits struct{ *engine.Injector }

func (i incompleteEdits) Inject(resource *yaml.RNode, opts engine.Options) *engine.Report {
	r := i.Injector.Inject(resource, opts)
	r.EditsComplete = false
	return r
}

// TestHandleIncompleteEdits: when the engine's edits do not describe every
// change, the webhook refuses the pod (in the review, so the API server
// refuses it whatever the failurePolicy), logs the bug at error level, and
// counts its mutations as failed, not injected.
func TestHandleIncompleteEdits(t *testing.T) {
	inj, err := engine.LoadFiles("testdata/sidecar-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(prometheus.NewRegistry())
	var log strings.Builder
	h := &Handler{
		Injector: func() Injector { return incompleteEdits{inj} },
		Metrics:  m,
		Log:      slog.New(slog.NewTextHandler(&log, nil)),
	}
	resp := h.Handle(context.Background(), readRequest(t, "testdata/pod-logging.json"))
	if resp.Allowed || len(resp.Patch) > 0 || resp.Result == nil || resp.Result.Code != http.StatusInternalServerError ||
		!strings.Contains(resp.Result.Message, "bug: the engine changed the object in a way its edit list does not describe") {
		t.Errorf("answer %+v, want a refusal with code 500 saying it is a bug", resp)
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "bug:") {
		t.Errorf("log %q, want the bug at error level", log.String())
	}
	for _, tc := range []struct {
		counter *prometheus.CounterVec
		labels  []string
		want    float64
	}{
		{m.Injections, []string{"logging", "injected"}, 0},
		{m.Injections, []string{"logging", "failed"}, 1},
		{m.Responses, []string{"errored"}, 1},
		{m.Responses, []string{"patched"}, 0},
	} {
		if got := testutil.ToFloat64(tc.counter.WithLabelValues(tc.labels...)); got != tc.want {
			t.Errorf("%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

// largePod is a review of a pod with a million empty args (4 MB), with or
// without the logging trigger.
func largePod(t *testing.T, triggered bool) *admission.Request {
	t.Helper()
	req := readRequest(t, "testdata/pod-logging.json")
	object := string(req.Object.Raw)
	if !triggered {
		object = strings.Replace(object, `"logging.example.com/inject":"true"`, `"other":"true"`, 1)
	}
	object = strings.Replace(object, `"name":"app",`, `"name":"app","args":[""`+strings.Repeat(`,""`, 1_000_000-1)+`],`, 1)
	req.Object.Raw = []byte(object)
	return req
}

// A pod that asks for nothing is answered from its metadata whatever its
// size: it reserves nothing and allocates a small part of its size. One
// that asks for injection reserves what decoding it takes: refused at once
// when that is more than the whole budget, after a short wait when others
// hold it, injected when there is room.
func TestHandleBudget(t *testing.T) {
	inj, err := engine.LoadFiles("testdata/sidecar-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	handler := func(b *budget.Budget) *Handler { return &Handler{Injector: func() Injector { return inj }, Budget: b} }

	full := budget.New(1<<10, time.Millisecond)
	held, _ := full.Reserve(ctx, 1<<10)
	defer held()
	untriggered := largePod(t, false)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp := handler(full).Handle(ctx, untriggered)
	runtime.ReadMemStats(&after)
	if !resp.Allowed || len(resp.Patch) > 0 || resp.Result != nil {
		t.Errorf("untriggered large pod: %+v", resp)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(len(untriggered.Object.Raw))/4 {
		t.Errorf("untriggered large pod of %d bytes: %d bytes allocated, want a small part of its size", len(untriggered.Object.Raw), allocated)
	}

	triggered := largePod(t, true)
	cost := jsonnode.DecodeCost(triggered.Object.Raw)
	for _, tc := range []struct {
		name    string
		budget  *budget.Budget
		hold    int64
		code    int32
		message string
	}{
		{"larger than the budget", budget.New(cost-1, time.Second), 0, 413,
			"sidecar-injector: decoding v1 Pod (3000290 bytes of JSON) needs 209.8 MiB of memory, more than the webhook's 209.8 MiB for all requests in flight; the pod is too large to inject"},
		{"budget held", budget.New(cost, 10*time.Millisecond), 1, 429,
			"of memory not available within 10ms: requests in flight hold the webhook's"},
		{"room", budget.New(cost, time.Second), 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hold > 0 {
				release, err := tc.budget.Reserve(ctx, tc.hold)
				if err != nil {
					t.Fatal(err)
				}
				defer release()
			}
			resp := handler(tc.budget).Handle(ctx, triggered)
			if tc.code == 0 {
				if !resp.Allowed || len(resp.Patch) == 0 {
					t.Fatalf("with room: %+v", resp.Result)
				}
				return
			}
			if resp.Allowed || resp.Result == nil || resp.Result.Code != tc.code || !strings.Contains(resp.Result.Message, tc.message) {
				t.Fatalf("got %+v, want code %d and a message containing %q", resp.Result, tc.code, tc.message)
			}
		})
	}
}

// TestHandleDuplicateKeys: a key present twice in the object reads as the
// API server reads it, the last one wins: in the trigger, in templates,
// and the patch's status and record land where the API server reads them.
func TestHandleDuplicateKeys(t *testing.T) {
	inj, err := engine.LoadFiles("../../engine/testdata/duplicate-keys/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Injector: func() Injector { return inj }}
	for _, tc := range []struct {
		annotations string
		injected    bool
	}{
		{`"x.io/inject":"false","x.io/inject":"true"`, true},
		{`"x.io/inject":"true","x.io/inject":"false"`, false},
	} {
		req := readRequest(t, "testdata/pod-logging.json")
		req.Object.Raw = []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"team":"first","team":"last"},"annotations":{` + tc.annotations + `}},"spec":{"containers":[{"name":"app","image":"app"}]}}`)
		resp := h.Handle(context.Background(), req)
		if !resp.Allowed {
			t.Fatalf("%s: denied: %+v", tc.annotations, resp.Result)
		}
		if !tc.injected {
			if len(resp.Patch) != 0 {
				t.Errorf("%s: patched %s, want nothing (the last value is false)", tc.annotations, resp.Patch)
			}
			continue
		}
		// The API server's reading of the object (the last key wins), the
		// patch applied.
		var obj map[string]any
		if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
			t.Fatal(err)
		}
		read, _ := json.Marshal(obj)
		out, err := patchtest.Apply(read, resp.Patch)
		if err != nil {
			t.Fatalf("%s: patch %s: %v", tc.annotations, resp.Patch, err)
		}
		for _, want := range []string{`"x.io/status":"injected"`, `"name":"INJECT","value":"true"`, `"name":"TEAM","value":"last"`, `"sidecar-injector.dev/injected"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: the patched pod does not hold %s:\n%s", tc.annotations, want, out)
			}
		}
	}
}
