package template

import (
	"reflect"
	"testing"
)

func TestReads(t *testing.T) {
	type set = map[string]bool
	tests := []struct {
		text string
		want Reads
	}{
		{`aws-iam-{% .Spec.ServiceAccountName %}`, Reads{SpecFields: set{"ServiceAccountName": true}, MetaFields: set{}}},
		{`{% index .Annotations "role" %}{% label "app" %}{% .Name %}`, Reads{SpecFields: set{}, MetaFields: set{"Annotations": true, "Labels": true, "Name": true}}},
		{`{% annotation "role" %}{% .ObjectMeta.Namespace %}`, Reads{SpecFields: set{}, MetaFields: set{"Annotations": true, "Namespace": true}}},
		{`{% toYaml .ObjectMeta %}`, Reads{AllMeta: true, SpecFields: set{}, MetaFields: set{}}},
		{`{% len .Spec.Containers %}{% if .Spec.NodeName %}x{% end %}`, Reads{SpecFields: set{"Containers": true, "NodeName": true}, MetaFields: set{}}},
		{`{% range .Spec.Volumes %}{% .Name %}{% end %}`, Reads{SpecFields: set{"Volumes": true}, MetaFields: set{"Name": true}}},
		{`{% toJson . %}`, Reads{AllSpec: true, AllMeta: true, SpecFields: set{}, MetaFields: set{}}},
		{`{% toYaml .Spec %}`, Reads{AllSpec: true, SpecFields: set{}, MetaFields: set{}}},
		{`{% $s := .Spec %}{% $s.NodeName %}`, Reads{AllSpec: true, AllMeta: true, SpecFields: set{}, MetaFields: set{}}},
		{`{% with .Spec %}{% .NodeName %}{% end %}`, Reads{AllSpec: true, SpecFields: set{}, MetaFields: set{"NodeName": true}}},
		{`{% range .Spec.Containers %}{% toJson . %}{% end %}`, Reads{AllSpec: true, AllMeta: true, SpecFields: set{"Containers": true}, MetaFields: set{}}},
		{`{% $.Spec.Hostname %}{% $.Labels %}`, Reads{SpecFields: set{"Hostname": true}, MetaFields: set{"Labels": true}}},
		{`{% (.Spec).Hostname %}`, Reads{AllSpec: true, SpecFields: set{}, MetaFields: set{}}},
		{`{% .Kind %}`, Reads{SpecFields: set{}, MetaFields: set{"Kind": true}}},
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
