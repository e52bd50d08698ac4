package typednode

import (
	"encoding/json"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Encode returns the node of v as the API server would serialize it: fields
// in Go struct order, omitempty applied, through encoding/json and
// engine/jsonnode. The node is a mapping, sequence or scalar node, not a
// document, and carries no comments or positions.
func Encode(v any) (*yaml.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonnode.Decode(data)
}
