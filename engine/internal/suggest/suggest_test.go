package suggest

import "testing"

func TestDidYouMean(t *testing.T) {
	fields := []string{"name", "annotationNamespace", "annotationTrigger", "initContainers", "containers", "image", "imagePullPolicy"}
	tests := []struct {
		name string
		want string
	}{
		{"annotationTriger", ` (did you mean "annotationTrigger"?)`},
		{"annotationTriggerForContainers", ` (did you mean "annotationTrigger"?)`},
		{"Containers", ` (did you mean "containers"?)`},
		{"nmae", ` (did you mean "name"?)`},
		{"completelyDifferent", ""},
		{"imagePullPolicey", ` (did you mean "imagePullPolicy"?)`},
		{"imagee", ` (did you mean "image"?)`},
	}
	for _, tt := range tests {
		if got := DidYouMean(tt.name, fields); got != tt.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
