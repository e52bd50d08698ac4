// Package config is what loading a configuration takes and tells: the
// sources of config documents ([Source], [ReadFiles]) and, when they do not
// load, every problem found with its file, line and column ([Error],
// [Problem]). [github.com/sidecar-injector/sidecar-injector/engine.Load]
// loads them; what a document may hold is the API of
// [github.com/sidecar-injector/sidecar-injector/api/v1alpha1].
package config
