package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Source is one stream of config documents and the name its errors carry.
type Source struct {
	// Name says where the data came from: a file path, or for a config that
	// arrived inside another document (a KRM functionConfig) a description
	// such as "functionConfig ConfigMap/sidecars".
	Name string
	// Data is YAML (or JSON): one or more documents separated by "---".
	Data []byte
}

// ReadFiles reads config files. A path that is a folder contributes every
// file in it whose name does not start with a dot, in name order: a mounted
// ConfigMap is such a folder, its keys links into a "..data" folder that
// the kubelet swaps atomically on update.
func ReadFiles(paths ...string) ([]Source, error) {
	var sources []Source
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err // an *fs.PathError: it names the operation and the path
		}
		files := []string{p}
		if info.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, err // an *fs.PathError: it names the operation and the path
			}
			files = files[:0]
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				f := filepath.Join(p, e.Name())
				if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
					files = append(files, f)
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("folder %s holds no config file", p)
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err // an *fs.PathError: it names the operation and the path
			}
			sources = append(sources, Source{Name: f, Data: data})
		}
	}
	return sources, nil
}
