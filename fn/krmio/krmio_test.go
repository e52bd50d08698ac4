package krmio

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// corpus is every ResourceList the tests hold: this package's tricky cases
// (comments everywhere, block scalars, flow style, long keys, a v1 List, an
// empty list, input results, a ResourceList captured from kpt fn render) and
// the function's golden inputs and outputs.
func corpus(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, glob := range []string{
		filepath.Join("testdata", "*.yaml"),
		filepath.Join("..", "cli", "testdata", "golden", "krm-*", "stdin.yaml"),
		filepath.Join("..", "cli", "testdata", "golden", "krm-*", "expected.stdout"),
	} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.Contains(f, "krm-bad-input") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 10 {
		t.Fatalf("corpus too small: %v", files)
	}
	return files
}

// Write gives kio.ByteWriter's bytes for every list of the corpus.
func TestSameBytesAsKyaml(t *testing.T) {
	for _, f := range corpus(t) {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			kyaml := &kio.ByteReadWriter{Reader: bytes.NewReader(data), Writer: &want, KeepReaderAnnotations: true}
			items, err := kyaml.Read()
			if err != nil {
				t.Fatal(err)
			}
			if err := kyaml.Write(items); err != nil {
				t.Fatal(err)
			}

			ours := &kio.ByteReadWriter{Reader: bytes.NewReader(data), KeepReaderAnnotations: true}
			items, err = ours.Read()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			err = write(&got, wrappedList{APIVersion: ours.WrappingAPIVersion, Kind: ours.WrappingKind,
				Items: items, FunctionConfig: ours.FunctionConfig, Results: ours.Results})
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("differs from kio.ByteWriter:\n--- kyaml\n%s\n+++ krmio\n%s", want.String(), got.String())
			}
		})
	}
}

// Execute gives framework.Execute's bytes and error, for processors that
// change nothing, add results, change items and fail.
func TestSameAsFrameworkExecute(t *testing.T) {
	processors := map[string]func() framework.ResourceListProcessor{
		"identity": func() framework.ResourceListProcessor {
			return framework.ResourceListProcessorFunc(func(*framework.ResourceList) error { return nil })
		},
		"results and changes": func() framework.ResourceListProcessor {
			return framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
				for _, it := range rl.Items {
					if err := it.PipeE(yaml.SetLabel("touched", "yes")); err != nil {
						return err
					}
					rl.Results = append(rl.Results, &framework.Result{Message: "touched " + it.GetName(), Severity: framework.Info})
				}
				return nil
			})
		},
		"tricky results": func() framework.ResourceListProcessor {
			return framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
				rl.Results = append(rl.Results, trickyResults()...)
				return nil
			})
		},
		"failing": func() framework.ResourceListProcessor {
			return framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
				rl.Results = append(rl.Results, &framework.Result{Message: "bad", Severity: framework.Error})
				return rl.Results
			})
		},
	}
	for _, f := range corpus(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range processors {
			t.Run(f+"/"+name, func(t *testing.T) {
				var want, got bytes.Buffer
				wantErr := framework.Execute(p(), &kio.ByteReadWriter{Reader: bytes.NewReader(data), Writer: &want, KeepReaderAnnotations: true})
				_, gotErr := Execute(p(), bytes.NewReader(data), &got)
				if got.String() != want.String() {
					t.Errorf("output differs from framework.Execute:\n--- framework\n%s\n+++ krmio\n%s", want.String(), got.String())
				}
				if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
					t.Errorf("error %v, framework.Execute gives %v", gotErr, wantErr)
				}
			})
		}
	}
}

// trickyResults are results whose strings the YAML encoder quotes, folds
// into block scalars or escapes: the results node goes through krmio's
// encoder, one field of the list, where framework.Execute encodes the whole
// list as one document. Fixed strings, then random ones built from the
// characters that change how a string is written.
func trickyResults() framework.Results {
	strs := []string{
		"", " ", "true", "no", "~", "null", "0x1F", "1e3", "012", "-", "- a", "? x", ": y", "a: b", "a #b", "#c",
		"'q'", `"dq"`, "x\ny", "line1\nline2", "line1\nline2\n", "trailing \n", "\n\nlead", "tab\there",
		" leading", "trailing ", "{flow}", "[seq]", "&anchor", "*alias", "!tag", "%dir", "@at", "`tick",
		"ünïcödé", "emoji 🙂", "nul\x00", "bell\a", "del\x7f", "nel\u0085", "ls\u2028", "bom\ufeff",
		"\xff\xfe invalid utf-8", strings.Repeat("long words ", 40), "---", "...", "|", ">", "=",
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab :#-?'\"\\\n\t{}[],&*!|>%@`~\u0085\u00a0é🙂\r")
	for i := 0; i < 300; i++ {
		r := make([]rune, rnd.IntN(12))
		for j := range r {
			r[j] = alphabet[rnd.IntN(len(alphabet))]
		}
		strs = append(strs, string(r))
	}
	var results framework.Results
	for i, s := range strs {
		r := &framework.Result{Message: s, Severity: []framework.Severity{framework.Info, framework.Warning, framework.Error, ""}[i%4]}
		if i%3 == 0 {
			r.Tags = map[string]string{s: s, "k": s}
		}
		if i%5 == 0 {
			r.ResourceRef = &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "v1", Kind: s}, NameMeta: yaml.NameMeta{Name: s}}
			r.File = &framework.File{Path: s, Index: i}
		}
		results = append(results, r)
	}
	return results
}

func TestExecuteUnreadableInput(t *testing.T) {
	var out bytes.Buffer
	_, err := Execute(framework.ResourceListProcessorFunc(func(*framework.ResourceList) error { return nil }),
		strings.NewReader("items:\n- {name: [unclosed\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "failed to read ResourceList input") {
		t.Errorf("error %v, want a read failure", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q on unreadable input", out.String())
	}
}
