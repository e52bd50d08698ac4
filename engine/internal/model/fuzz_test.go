package model_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
)

// FuzzLoad loads arbitrary config text: it must never panic, it either
// loads or says what is wrong, and every problem it places is on a line of
// the text, at a column of that line. Seeds: the old injector's real
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
		var problems []*config.Problem
		if e, ok := err.(*config.Error); ok {
			problems = append(e.Problems, e.Warnings...)
		} else if cfg != nil {
			problems = cfg.Warnings
		}
		lines := strings.Split(string(data), "\n")
		for _, p := range problems {
			if p.Line < 0 || p.Line > len(lines) || p.Column < 0 || p.Line > 0 && p.Column > utf8.RuneCountInString(lines[p.Line-1])+1 {
				t.Fatalf("%v: not a place in the text (%d lines)", p, len(lines))
			}
		}
	})
}
