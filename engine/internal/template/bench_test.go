package template

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func benchPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "team-a", Annotations: map[string]string{
			"vault.k8s-integration.sfdc.com/role": "web",
		}},
		Spec: corev1.PodSpec{ServiceAccountName: "web"},
	}
}

// BenchmarkExecute renders templates of the shapes configs hold: the
// the old injector's field and index reads, a function, a loop.
func BenchmarkExecute(b *testing.B) {
	for _, bm := range []struct{ name, text string }{
		{"field", "aws-iam-{% .Spec.ServiceAccountName %}"},
		{"index", `{% index .Annotations "vault.k8s-integration.sfdc.com/role" %}`},
		{"function", `{% annotation "vault.k8s-integration.sfdc.com/role" "none" | upper %}`},
		{"range", `{% range until 1000 %}{% end %}`},
	} {
		b.Run(bm.name, func(b *testing.B) {
			tm, err := Parse(bm.name, bm.text)
			if err != nil {
				b.Fatal(err)
			}
			pod := benchPod()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tm.Execute(pod); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkClone(b *testing.B) {
	tm, err := Parse("small", "aws-iam-{% .Spec.ServiceAccountName %}")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tm.newInstance()
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("small", "aws-iam-{% .Spec.ServiceAccountName %}"); err != nil {
			b.Fatal(err)
		}
	}
}
