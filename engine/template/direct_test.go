package template

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/randfill"
)

// Templates that read strings of the pod are rendered without
// text/template; their output must be exactly text/template's, on any pod.
func TestDirectRendersLikeTextTemplate(t *testing.T) {
	tests := []struct {
		text   string
		direct bool
	}{
		{`{% .Spec.ServiceAccountName %}`, true},
		{`aws-iam-{% .Spec.ServiceAccountName %}`, true},
		{`{% index .Annotations "vault.k8s-integration.sfdc.com/role" %}`, true},
		{"--role={% index .ObjectMeta.Annotations \"role\" %} --ns={% .Namespace %}\n", true},
		{`{%- .Name -%} / {% index .Labels "app" %}`, true},
		{`{% .Status.Message %}`, true},
		{`plain text, no action`, true},

		{`{% .Spec.RestartPolicy %}`, false},             // a named string type
		{`{% .Spec.SecurityContext.RunAsUser %}`, false}, // through a pointer
		{`{% .Annotations.role %}`, false},               // a map read as a field
		{`{% index .Annotations .Name %}`, false},        // a key that is not literal
		{`{% .Name | upper %}`, false},                   // a pipeline
		{`{% $n := .Name %}{% $n %}`, false},             // variables
		{`{% if .Name %}x{% end %}`, false},              // control structures
		{`{% annotation "role" "none" %}`, false},        // functions
		{`{% define "x" %}y{% end %}{% .Name %}`, false}, // defined templates
		{`{% .Spec.Containers %}`, false},                // not a string
	}
	fill := randfill.NewWithSeed(7).NilChance(0.3).NumElements(0, 3)
	pods := []*corev1.Pod{nil, {}, testPod()}
	for i := range 50 {
		p := &corev1.Pod{}
		fill.Fill(p)
		if i%2 == 0 { // keys the templates look up
			p.Annotations = map[string]string{"role": p.Name, "vault.k8s-integration.sfdc.com/role": p.Namespace}
			p.Labels = map[string]string{"app": p.GenerateName}
		}
		pods = append(pods, p)
	}
	for _, tt := range tests {
		tm, err := Parse("d", tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if got := tm.direct != nil; got != tt.direct {
			t.Errorf("%s: rendered directly %v, want %v", tt.text, got, tt.direct)
			continue
		}
		for i, pod := range pods {
			got, gotErr := tm.Execute(pod)
			if pod == nil {
				pod = &corev1.Pod{}
			}
			want, wantErr := tm.executeText(pod)
			if got != want || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s, pod %d: got %q, %v; text/template gives %q, %v", tt.text, i, got, gotErr, want, wantErr)
			}
		}
	}
}

// Output over the limit is text/template's to refuse, with its error.
func TestDirectLeavesTheLimitToTextTemplate(t *testing.T) {
	tm, err := ParseWithLimits("d", `{% .Name %}-{% .Namespace %}`, Limits{MaxOutput: 8})
	if err != nil {
		t.Fatal(err)
	}
	if tm.direct == nil {
		t.Fatal("not rendered directly")
	}
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace = "a-long-name", "ns"
	_, err = tm.Execute(pod)
	_, want := tm.executeText(pod)
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("got %v, want text/template's %v", err, want)
	}
	pod.Name = "ok"
	if out, err := tm.Execute(pod); err != nil || out != "ok-ns" {
		t.Errorf("within the limit: %q, %v", out, err)
	}
}
