// Package patchtest is what the webhook's tests judge a JSON patch with:
// applying it as the API server does, with the same patch library, and
// telling the objects that no patch can be judged on.
package patchtest

import (
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Apply applies patch to object; an empty patch leaves it as it is.
func Apply(object, patch []byte) ([]byte, error) {
	if len(patch) == 0 {
		return object, nil
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, fmt.Errorf("patch does not decode: %w\n%s", err, patch)
	}
	out, err := p.Apply(object)
	if err != nil {
		return nil, fmt.Errorf("patch does not apply: %w\n%s\nto %s", err, patch, object)
	}
	return out, nil
}

// OddKeys reports a mapping anywhere with a key twice (JSON leaves its
// meaning open, so no patch can be judged on it) or an empty key (no
// Kubernetes object has one, and the patch library the API server and
// these tests use does not resolve the pointer "/a//b", though RFC 6901
// allows it).
func OddKeys(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "" || seen[k] {
				return true
			}
			seen[n.Content[i].Value] = true
		}
	}
	for _, c := range n.Content {
		if OddKeys(c) {
			return true
		}
	}
	return false
}
