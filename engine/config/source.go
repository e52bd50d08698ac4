package config

// Source is one stream of config documents and the name its errors carry.
type Source struct {
	// Name says where the data came from: a file path, or for a config that
	// arrived inside another document (a KRM functionConfig) a description
	// such as "functionConfig ConfigMap/sidecars".
	Name string
	// Data is YAML (or JSON): one or more documents separated by "---".
	Data []byte
}
