package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage: sidecar-injector-webhook --config PATH", "-tls-cert-file", "-log-format", "-version"}},
		{[]string{"-h", "--config", "x"}, []string{"Usage: sidecar-injector-webhook"}},
		// A test binary carries no version: what `make build` stamps is
		// checked on the built binaries in e2e.
		{[]string{"--version"}, []string{"sidecar-injector-webhook (devel) (commit unknown, " + runtime.Version() + ")\n"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != exitOK {
				t.Errorf("exit status %d, want 0", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout does not hold %q:\n%s", w, stdout.String())
				}
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
		})
	}
}

// TestStartupErrorsLogged: with --log-format json every line is JSON, the
// command-line and start-up errors included, wherever the flag stands.
func TestStartupErrorsLogged(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tls := []string{"--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"}
	for _, tc := range []struct {
		name     string
		args     []string
		json     bool
		wantCode int
		want     string
	}{
		{"unknown flag before --log-format", []string{"--bogus", "--log-format=json"}, true, exitUsage, "flag provided but not defined: -bogus"},
		{"unknown flag, -log-format value after it", []string{"-bogus", "-log-format", "json"}, true, exitUsage, "-bogus"},
		{"missing --config", append([]string{"--log-format", "json"}, tls...), true, exitUsage, "--config is required"},
		{"bad --log-format", []string{"--log-format", "xml"}, false, exitUsage, `--log-format \"xml\": want text or json`},
		{"config not found", append([]string{"--log-format", "json", "--config", missing}, tls...), true, exitError, "missing.yaml"},
		{"config not found, text", append([]string{"--config", missing}, tls...), false, exitError, "missing.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("exit status %d, want %d", code, tc.wantCode)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			for _, l := range lines {
				var entry map[string]any
				if isJSON := json.Unmarshal([]byte(l), &entry) == nil; isJSON != tc.json {
					t.Errorf("line is JSON: %v, want %v: %s", isJSON, tc.json, l)
				}
			}
			last := lines[len(lines)-1]
			if !strings.Contains(last, "ERROR") || !strings.Contains(last, tc.want) {
				t.Errorf("last line %s, want an error holding %s", last, tc.want)
			}
		})
	}
}

// TestLogLines: the first line says which build starts, a denial is a
// warning naming the pod's namespace and name (or generateName), and
// durations carry their unit.
func TestLogLines(t *testing.T) {
	w := startWebhook(t, filepath.Join(fixtures, "sidecar-injector.yaml"), "--log-format", "json", "--log-level", "debug")
	denied := read(t, fixtures+"/pod-fail.json")
	okAnswer(t, w, denied)
	okAnswer(t, w, bytes.Replace(denied, []byte(`"name":"strict"`), []byte(`"generateName":"strict-"`), 1))

	var entries []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		entries = append(entries, e)
	}
	if first := entries[0]; first["msg"] != "starting" || first["version"] != "(devel)" || first["goversion"] != runtime.Version() {
		t.Errorf("first line %v, want the build starting", first)
	}
	var denials []string
	requests := 0
	for _, e := range entries {
		switch e["msg"] {
		case "denied":
			if e["level"] != "WARN" || e["namespace"] != "team-a" {
				t.Errorf("denial %v, want level WARN in namespace team-a", e)
			}
			denials = append(denials, jsonString(e["name"])+"|"+jsonString(e["generateName"]))
		case "admission request":
			requests++
			d, ok := e["duration"].(string)
			if _, err := time.ParseDuration(d); !ok || err != nil {
				t.Errorf("duration %v, want a string with its unit", e["duration"])
			}
		}
	}
	if want := "strict|,|strict-"; strings.Join(denials, ",") != want {
		t.Errorf("denials name|generateName %q, want %q", strings.Join(denials, ","), want)
	}
	if requests != 2 {
		t.Errorf("%d request lines, want 2", requests)
	}
}

func jsonString(v any) string { s, _ := v.(string); return s }

func TestBuildInfoMetric(t *testing.T) {
	w := startWebhook(t, filepath.Join(fixtures, "sidecar-injector.yaml"))
	resp, err := http.Get(w.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	want := `sidecar_injector_build_info{commit="unknown",goversion="` + runtime.Version() + `",version="(devel)"} 1`
	if !strings.Contains(string(data), want+"\n") {
		t.Errorf("/metrics does not hold %s", want)
	}
}
