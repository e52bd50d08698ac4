package engine_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// compat is the old injector's corpus, beside the project's checkout.
const compat = "testdata/compat/salesforce"

// TestCompatSalesforceAdmissionReview injects the keymaker and madkub
// mutations of the old injector's real configs into the pod of its real
// AdmissionReview, and checks the result against what the old injector's
// response intends: the same sidecars, volumes and mounts, each container
// equal to the one it added, in the order the contract gives (the old
// injector reversed the pod's containers on every mutation: a defect this
// test does not copy).
func TestCompatSalesforceAdmissionReview(t *testing.T) {
	inj, err := engine.LoadFiles(filepath.Join(compat, "sidecarconfigs.yaml"), filepath.Join(compat, "mutationconfigs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var review struct {
		Request struct {
			Namespace string          `json:"namespace"`
			Object    json.RawMessage `json:"object"`
		} `json:"request"`
	}
	readJSON(t, filepath.Join(compat, "admissionreview.json"), &review)
	pod, err := yaml.ConvertJSONToYamlNode(string(review.Request.Object))
	if err != nil {
		t.Fatal(err)
	}
	rep := inj.Inject(pod, engine.Options{Namespace: review.Request.Namespace})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	out, err := pod.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}

	// What the old injector added, by name: its JSON patch adds every
	// container (the pod's own again, with mounts) and every volume whole.
	var patch []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	readJSON(t, filepath.Join(compat, "result/admissionresponse"), &patch)
	intended := map[string]map[string]any{}
	for _, op := range patch {
		if obj, ok := op.Value.(map[string]any); ok && op.Op == "add" {
			intended[strings.Split(op.Path, "/")[2]+"/"+obj["name"].(string)] = obj
		}
	}

	spec := got["spec"].(map[string]any)
	for list, wantOrder := range map[string][]string{
		"initContainers": {"ca-populator-original", "madkub-init-original", "init-fqdn", "krb5-populator", "keymaker-client", "ca-populator", "madkub-init"},
		"containers":     {"keymaker-original", "madkub-refresher"},
		"volumes":        {"kaas-keymaker-orlgsgcsl34imsg6-token-kn2t8", "keytabs", "ca", "clientcert", "servercert", "tokens", "svcaccount"},
	} {
		var order []string
		for _, item := range spec[list].([]any) {
			obj := item.(map[string]any)
			name := obj["name"].(string)
			order = append(order, name)
			want, ok := intended[list+"/"+name]
			if !ok {
				continue // the pod's own volume: the old injector did not re-add it
			}
			// The old injector serialized Go structs, so every container it
			// added carries "resources": {}; this one writes sidecars as
			// their config does. The API server stores both alike.
			dropEmpty(obj, "resources")
			dropEmpty(want, "resources")
			if !reflect.DeepEqual(obj, want) {
				gotJSON, _ := json.Marshal(obj)
				wantJSON, _ := json.Marshal(want)
				t.Errorf("%s %q:\n got  %s\n want %s", list, name, gotJSON, wantJSON)
			}
		}
		if !reflect.DeepEqual(order, wantOrder) {
			t.Errorf("%s order = %v, want %v", list, order, wantOrder)
		}
	}
	annotations := got["metadata"].(map[string]any)["annotations"].(map[string]any)
	for _, key := range []string{"keymaker.k8s-integration.sfdc.com/status", "madkub.k8s-integration.sfdc.com/status"} {
		if annotations[key] != "injected" {
			t.Errorf("annotation %s = %v, want injected", key, annotations[key])
		}
	}
	if _, ok := annotations[engine.RecordAnnotation]; !ok {
		t.Errorf("no %s record annotation", engine.RecordAnnotation)
	}
}

func dropEmpty(obj map[string]any, key string) {
	if m, ok := obj[key].(map[string]any); ok && len(m) == 0 {
		delete(obj, key)
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the compatibility corpus must be beside the checkout: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
