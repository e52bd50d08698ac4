package template

import (
	"reflect"
	"testing"
)

func TestReads(t *testing.T) {
	tests := []struct {
		text string
		want Reads
	}{
		{`aws-iam-{% .Spec.ServiceAccountName %}`, Reads{SpecFields: map[string]bool{"ServiceAccountName": true}}},
		{`{% index .Annotations "role" %}{% label "app" %}{% .Name %}`, Reads{SpecFields: map[string]bool{}}},
		{`{% len .Spec.Containers %}{% if .Spec.NodeName %}x{% end %}`, Reads{SpecFields: map[string]bool{"Containers": true, "NodeName": true}}},
		{`{% range .Spec.Volumes %}{% .Name %}{% end %}`, Reads{SpecFields: map[string]bool{"Volumes": true}}},
		{`{% toJson . %}`, Reads{AllSpec: true, SpecFields: map[string]bool{}}},
		{`{% toYaml .Spec %}`, Reads{AllSpec: true, SpecFields: map[string]bool{}}},
		{`{% $s := .Spec %}{% $s.NodeName %}`, Reads{AllSpec: true, SpecFields: map[string]bool{}}},
		{`{% with .Spec %}{% .NodeName %}{% end %}`, Reads{AllSpec: true, SpecFields: map[string]bool{}}},
		{`{% range .Spec.Containers %}{% toJson . %}{% end %}`, Reads{AllSpec: true, SpecFields: map[string]bool{"Containers": true}}},
		{`{% $.Spec.Hostname %}`, Reads{SpecFields: map[string]bool{"Hostname": true}}},
		{`{% (.Spec).Hostname %}`, Reads{AllSpec: true, SpecFields: map[string]bool{}}},
	}
	for _, tt := range tests {
		tmpl, err := Parse("t", tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if got := tmpl.Reads(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Reads() = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}
