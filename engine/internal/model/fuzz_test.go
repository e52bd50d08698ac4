package model_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
)

// FuzzLoad loads arbitrary config text: it must never panic, and it
// either loads or says what is wrong. Seeds: the old injector's real
// configs and every golden case's config.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/*/config*.yaml")
	more, _ := filepath.Glob(filepath.Join(compat, "*.yaml"))
	for _, s := range append(seeds, more...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := model.Load(config.Source{Name: "fuzz.yaml", Data: data})
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("an error with no message")
		}
	})
}
