// Command bench-fn measures sidecar-injector-fn against a floor measured in
// the same run: an identity KRM function on kyaml (hack/bench-fn/identity)
// that reads the same ResourceList and writes it back unchanged.
//
// Two inputs: 10,000 workloads (half of them triggered), for throughput and
// memory; one workload, for the startup tax an exec function pays on every
// `kustomize build`. The two binaries run alternately, each run a fresh
// process; the figures are medians of wall time and of peak resident memory
// (the kernel's rusage, read through GNU time), and the result is each median as a ratio of the
// identity's. Each -reference LABEL=BINARY is a further floor measured the
// same way and shown for reference, not judged: `make fn-bench` adds the
// identity with the function's own writer (fn/krmio), which tells the
// writer's gain from the cost of injection; the identity with the
// engine linked in but unused, which tells what linking the engine's
// dependencies (their package initializers, a larger binary) costs before
// the function does anything; and the contract's floor, the identity that
// can render a text/template over a core/v1 Pod with sprig's functions but
// never does (identity/contract.go): what docs/design.md's template
// language costs any implementation before it does anything, so that what
// the function costs above it is its own. Before measuring, the function's output is
// checked (every item back, the triggered half injected), so a broken
// function cannot look fast.
//
//	bench-fn -fn bin/sidecar-injector-fn -identity bin/krm-identity-fn \
//	  -config examples/kustomize/sidecar-injector.yaml -trigger logging.example.com/inject
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

type options struct {
	fn, identity               string
	references                 references
	config, trigger            string
	workloads, runs, smallRuns int
	goal                       float64
}

// reference is a floor shown beside the identity, not judged.
type reference struct{ label, bin string }

// references is the repeatable -reference flag.
type references []reference

func (r *references) String() string { return fmt.Sprint(*r) }

func (r *references) Set(v string) error {
	label, bin, ok := strings.Cut(v, "=")
	if !ok || label == "" || bin == "" {
		return fmt.Errorf("want LABEL=BINARY, got %q", v)
	}
	*r = append(*r, reference{label, bin})
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.fn, "fn", "bin/sidecar-injector-fn", "the function under test")
	flag.StringVar(&o.identity, "identity", "bin/krm-identity-fn", "the identity function (the floor)")
	flag.Var(&o.references, "reference", "LABEL=BINARY: a further floor, measured and shown for reference (repeatable)")
	flag.StringVar(&o.config, "config", "", "the functionConfig file (required)")
	flag.StringVar(&o.trigger, "trigger", "", "the trigger annotation of a mutation in the config, e.g. logging.example.com/inject (required)")
	flag.IntVar(&o.workloads, "workloads", 10000, "workloads in the large ResourceList; half are triggered")
	flag.IntVar(&o.runs, "runs", 5, "runs of each binary on the large input")
	flag.IntVar(&o.smallRuns, "small-runs", 101, "runs of each binary on the one-workload input (a few milliseconds each)")
	flag.Float64Var(&o.goal, "goal", 1.5, "the goal: the most the function may cost, as a multiple of the identity")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench-fn:", err)
		os.Exit(1)
	}
}

func run(o options, out io.Writer) error {
	if o.config == "" || o.trigger == "" {
		return fmt.Errorf("-config and -trigger are required")
	}
	if _, err := os.Stat(timeBin); err != nil {
		return fmt.Errorf("GNU time is needed to read each run's peak memory (apt-get install time): %w", err)
	}
	cfg, err := os.ReadFile(o.config)
	if err != nil {
		return fmt.Errorf("reading the config: %w", err)
	}
	dir, err := os.MkdirTemp("", "bench-fn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(out, "fn bench: %s vs %s (identity KRM function on kyaml), medians, goal <= %.2fx\n", o.fn, o.identity, o.goal)
	missed := 0
	for _, sc := range []struct {
		name      string
		workloads int
		runs      int
	}{
		{fmt.Sprintf("%d workloads (%d triggered)", o.workloads, (o.workloads+1)/2), o.workloads, o.runs},
		{"1 workload (startup tax)", 1, o.smallRuns},
	} {
		input := filepath.Join(dir, fmt.Sprintf("rl-%d.yaml", sc.workloads))
		if err := os.WriteFile(input, ResourceList(cfg, o.trigger, sc.workloads), 0o600); err != nil {
			return err
		}
		if err := checkOutput(o.fn, input, o.trigger, sc.workloads); err != nil {
			return fmt.Errorf("%s: the function's output is wrong, not measuring it: %w", sc.name, err)
		}
		var id, fn []sample
		refs := make([][]sample, len(o.references))
		for i := 0; i < sc.runs; i++ {
			s, err := measure(o.identity, input)
			if err != nil {
				return err
			}
			id = append(id, s)
			for r, ref := range o.references {
				if s, err = measure(ref.bin, input); err != nil {
					return err
				}
				refs[r] = append(refs[r], s)
			}
			if s, err = measure(o.fn, input); err != nil {
				return err
			}
			fn = append(fn, s)
		}
		idWall, fnWall := median(id, wallOf), median(fn, wallOf)
		idRSS, fnRSS := median(id, rssOf), median(fn, rssOf)
		fmt.Fprintf(out, "\n%s, %d runs each:\n", sc.name, sc.runs)
		fmt.Fprintf(out, "  %-12s %14s %22s %8s\n", "", "identity", "sidecar-injector-fn", "ratio")
		missed += row(out, "wall time", ms(idWall), ms(fnWall), fnWall/idWall, o.goal)
		missed += row(out, "peak memory", mib(idRSS), mib(fnRSS), fnRSS/idRSS, o.goal)
		for r, ref := range o.references {
			rWall, rRSS := median(refs[r], wallOf), median(refs[r], rssOf)
			fmt.Fprintf(out, "  reference: %s: %s (%.2fx the identity; fn %.2fx it), %s (%.2fx; fn %.2fx)\n",
				ref.label, ms(rWall), rWall/idWall, fnWall/rWall, mib(rRSS), rRSS/idRSS, fnRSS/rRSS)
		}
	}
	if missed > 0 {
		fmt.Fprintf(out, "\nGOAL MISSED on %d figure(s) (marked above)\n", missed)
	} else {
		fmt.Fprintf(out, "\nall figures within the goal\n")
	}
	return nil
}

func row(out io.Writer, what, id, fn string, ratio, goal float64) int {
	verdict, missed := "ok", 0
	if ratio > goal {
		verdict, missed = "MISSED", 1
	}
	fmt.Fprintf(out, "  %-12s %14s %22s %7.2fx  %s\n", what, id, fn, ratio, verdict)
	return missed
}

type sample struct {
	wall time.Duration
	rss  int64 // bytes
}

func wallOf(s sample) float64 { return float64(s.wall) }
func rssOf(s sample) float64  { return float64(s.rss) }

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// ms shows a duration to the millisecond, or to a tenth of one below a
// second (a one-workload run takes a few milliseconds).
func ms(d float64) string {
	if time.Duration(d) < time.Second {
		return time.Duration(d).Round(100 * time.Microsecond).String()
	}
	return time.Duration(d).Round(time.Millisecond).String()
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// timeBin is GNU time. The peak memory is read through it rather than
// from this process's wait4: Go starts children with vfork, and Linux then
// counts the parent's resident memory into the child's maxrss, which would
// hide the figure under the harness's own size. GNU time forks from a
// process of about 2 MiB, the same for both binaries.
const timeBin = "/usr/bin/time"

// measure runs bin with input on stdin and its output thrown away, and
// returns the wall time and the peak resident memory the kernel reports.
func measure(bin, input string) (sample, error) {
	in, err := os.Open(input)
	if err != nil {
		return sample{}, err
	}
	defer in.Close()
	rusage, err := os.CreateTemp("", "bench-fn-rusage-")
	if err != nil {
		return sample{}, err
	}
	rusage.Close()
	defer os.Remove(rusage.Name())
	var stderr bytes.Buffer
	cmd := exec.Command(timeBin, "-f", "%M", "-o", rusage.Name(), bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, io.Discard, &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v: %s", bin, err, stderr.String())
	}
	b, err := os.ReadFile(rusage.Name())
	if err != nil {
		return sample{}, err
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return sample{}, fmt.Errorf("reading the peak memory from %s: %q: %w", timeBin, b, err)
	}
	return sample{wall: wall, rss: kib * 1024}, nil
}

// checkOutput runs the function once and checks that every item came back
// and that exactly the triggered ones carry the injected status annotation.
func checkOutput(bin, input, trigger string, workloads int) error {
	in, err := os.Open(input)
	if err != nil {
		return err
	}
	defer in.Close()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, stderr.String())
	}
	items, err := (&kio.ByteReader{Reader: &stdout, OmitReaderAnnotations: true}).Read()
	if err != nil {
		return fmt.Errorf("reading its output: %w", err)
	}
	if len(items) != workloads {
		return fmt.Errorf("%d items in, %d out", workloads, len(items))
	}
	status := strings.SplitN(trigger, "/", 2)[0] + "/status"
	injected := 0
	for _, it := range items {
		v, err := it.Pipe(yaml.Lookup("spec", "template", "metadata", "annotations", status))
		if err == nil && v != nil && yaml.GetValue(v) == "injected" {
			injected++
		}
	}
	if want := (workloads + 1) / 2; injected != want {
		return fmt.Errorf("%d workloads carry %s=injected, want %d", injected, status, want)
	}
	return nil
}
