package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// TestHostileRecords: the record annotation is anyone's to write. Whatever
// it holds (garbage, huge, forged names and digests, another pod's record),
// neither the function (Upgrade) nor the webhook removes anything of the
// user's without saying so: every item the user wrote is still there, or a
// result names it.
func TestHostileRecords(t *testing.T) {
	inj := loadConfigs(t, []string{"testdata/upgrade-replaces-old-sidecars/config.yaml"})
	const userItems = `spec:
  initContainers:
  - {name: setup, image: example.com/setup:1}
  containers:
  - name: web
    image: example.com/web:1
    volumeMounts:
    - {name: data, mountPath: /data}
  - {name: log-shipper, image: example.com/my-own-shipper:1}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  - {name: logs, emptyDir: {}}
  imagePullSecrets:
  - {name: regcred}
`
	items := []string{"name: setup", "name: web", "mountPath: /data", "my-own-shipper", "claimName: data", "name: logs", "name: regcred"}
	forged := func(mutation string) string {
		return `{"mutations":[{"name":"` + mutation + `","hash":"x","status":"logging.example.com/status","initContainers":{"setup":"0"},"containers":{"web":"","log-shipper":"5034a341469f5129"},"volumes":{"data":"1","logs":"ffffffffffffffff"},"imagePullSecrets":{"regcred":"2"},"mounts":{"web":{"/data":"3"}}}]}`
	}
	records := map[string]string{
		"not JSON":                 "{not json",
		"null":                     "null",
		"a list":                   "[]",
		"mutations null":           `{"mutations":null}`,
		"a null mutation":          `{"mutations":[null]}`,
		"names as numbers":         `{"mutations":[{"name":1,"containers":{"web":2}}]}`,
		"the old list form":        `{"mutations":[{"name":"logging","hash":"x","containers":["web","log-shipper"],"volumes":["data","logs"],"imagePullSecrets":["regcred"]}]}`,
		"forged, unknown mutation": forged("ghost"),
		"forged, known mutation":   forged("logging"),
		"duplicate keys":           `{"mutations":[{"name":"logging","containers":{"web":"a","web":"b"}}],"mutations":[{"name":"ghost","volumes":{"data":""}}]}`,
		"status of another key":    `{"mutations":[{"name":"ghost","status":"logging.example.com/inject","containers":{"web":"0"}}]}`,
		"deeply nested":            strings.Repeat("[", 100000),
		"larger than any pod":      `{"mutations":[` + strings.Repeat(`{"name":"ghost","containers":{"web":"0"}},`, 8000) + `{"name":"x"}]}`,
		"many mutations":           `{"mutations":[` + strings.Repeat(`{"name":"ghost","containers":{"web":"0","db":"1"}},`, 2000) + `{"name":"x"}]}`,
		"unicode and escapes":      `{"mutations":[{"name":"\u0000\u2028","containers":{"w\u0065b":"0"}}]}`,
	}
	for name, record := range records {
		for _, upgrade := range []bool{true, false} {
			pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    logging.example.com/inject: \"true\"\n    logging.example.com/status: injected\n    " + engine.RecordAnnotation + ": " + yamlQuote(record) + "\n" + userItems
			node, err := yaml.Parse(pod)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rep := inj.Inject(node, engine.Options{Upgrade: upgrade})
			out := node.MustString()
			for _, item := range items {
				if !strings.Contains(out, item) {
					t.Errorf("%s (upgrade %v): %q is gone:\n%s\nreport %+v", name, upgrade, item, out, rep)
				}
			}
			if upgrade && strings.HasPrefix(name, "forged") && !strings.Contains(fmt.Sprint(rep.Warnings), `container "web" is not what the injector recorded`) {
				t.Errorf("%s: no warning names the container kept: %v", name, rep.Warnings)
			}
			if len(rep.Removed) > 0 {
				t.Errorf("%s (upgrade %v): removed %+v", name, upgrade, rep.Removed)
			}
		}
	}
}

func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
