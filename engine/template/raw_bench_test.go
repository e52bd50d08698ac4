package template

import (
	"bytes"
	"testing"
	ttemplate "text/template"
)

func BenchmarkRawTextTemplate(b *testing.B) {
	tm := ttemplate.Must(ttemplate.New("t").Delims("{%", "%}").Parse("aws-iam-{% .Spec.ServiceAccountName %}"))
	pod := benchPod()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := tm.Execute(&buf, pod); err != nil {
			b.Fatal(err)
		}
		_ = buf.String()
	}
}
