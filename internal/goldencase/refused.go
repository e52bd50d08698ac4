package goldencase

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RefusedDir holds configs that every front end must refuse, relative to
// the repository's root; its want.txt says what each error says.
const RefusedDir = "engine/internal/model/testdata/refused"

// RefusedConfig is one config of RefusedDir.
type RefusedConfig struct {
	Path string // the config file
	// Want is what the error says, starting with the file's base name (and
	// its line, where there is one).
	Want string
}

// Refused reads the table of refused configs of dir (RefusedDir, from the
// test's folder): one line "FILE: message" or "FILE:LINE:COL: message"
// per config.
func Refused(dir string) ([]RefusedConfig, error) {
	data, err := os.ReadFile(filepath.Join(dir, "want.txt"))
	if err != nil {
		return nil, err
	}
	var out []RefusedConfig
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		file, _, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s/want.txt: %q is not FILE: message", dir, line)
		}
		out = append(out, RefusedConfig{Path: filepath.Join(dir, file), Want: line})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s/want.txt lists no config", dir)
	}
	return out, nil
}
