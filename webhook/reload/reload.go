// Package reload keeps a value built from config files in service while the
// files change: it re-reads them when they change, builds a new value, and
// swaps it in atomically. A read or build that fails is refused, logged and
// counted, and the last good value keeps serving.
//
// Changes are seen two ways: fsnotify events on the watched files' folders
// (which catch the atomic "..data" symlink swap of a mounted ConfigMap as
// well as in-place writes and renames), and a periodic poll as a safety net
// for file systems without events. Either way the files are read and
// compared with what is in service, so a spurious event costs one read and
// no rebuild.
package reload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// Options configure a [Watcher].
type Options[T any] struct {
	// Paths are the config files and folders given on the command line.
	Paths []string
	// Read reads the current sources (config.ReadFiles of Paths in
	// production).
	Read func() ([]config.Source, error)
	// Build turns sources into the value to serve (engine.Load in
	// production). It must not keep a reference to a value it rejects.
	Build func([]config.Source) (T, error)
	// Interval is the poll period; zero means 10 seconds.
	Interval time.Duration
	// Debounce gathers a burst of events (a ConfigMap update is several)
	// into one reload; zero means 100 milliseconds.
	Debounce time.Duration
	// Log receives a line per reload.
	Log *slog.Logger
	// OnReload is called after each attempt that found changed files, with
	// the build's or read's error (nil when the new value went into
	// service). Metrics hang here.
	OnReload func(err error)
}

// Watcher holds the value in service. Current is safe for concurrent use.
type Watcher[T any] struct {
	opts    Options[T]
	current atomic.Pointer[T]

	mu     sync.Mutex // serialises reloads
	digest [sha256.Size]byte
}

// New reads and builds the first value. Its error is the caller's to
// report: a server must not start without a config.
func New[T any](opts Options[T]) (*Watcher[T], error) {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher[T]{opts: opts}
	sources, err := opts.Read()
	if err != nil {
		return nil, err
	}
	v, err := opts.Build(sources)
	if err != nil {
		return nil, err
	}
	w.current.Store(&v)
	w.digest = digest(sources)
	return w, nil
}

// Current returns the value in service.
func (w *Watcher[T]) Current() T { return *w.current.Load() }

// reload reads the files and, when they differ from what is in service,
// builds and swaps in a new value. It reports whether a new value went into
// service; the error is that of a refused change.
func (w *Watcher[T]) reload() (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sources, err := w.opts.Read()
	if err != nil {
		// A half-written or vanished file: refuse, and try again on the next
		// event or poll.
		return false, w.refused(err)
	}
	d := digest(sources)
	if d == w.digest {
		return false, nil
	}
	v, err := w.opts.Build(sources)
	if err != nil {
		// Remember the digest so the same bad files are reported once, not
		// on every poll.
		w.digest = d
		return false, w.refused(err)
	}
	w.current.Store(&v)
	w.digest = d
	w.opts.Log.Info("config reloaded", "files", names(sources))
	if w.opts.OnReload != nil {
		w.opts.OnReload(nil)
	}
	return true, nil
}

func (w *Watcher[T]) refused(err error) error {
	w.opts.Log.Error("config reload refused, the last good config keeps serving", "error", err)
	if w.opts.OnReload != nil {
		w.opts.OnReload(err)
	}
	return err
}

// Run watches for changes until ctx ends, then returns nil. Changes made
// since New are found too. When a folder cannot be watched it is logged,
// and polling alone finds its changes.
func (w *Watcher[T]) Run(ctx context.Context) error {
	events := make(<-chan fsnotify.Event)
	errs := make(<-chan error)
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		w.opts.Log.Warn("config files are polled only: no file watch", "error", err)
	} else {
		defer fw.Close()
		for _, dir := range watchDirs(w.opts.Paths) {
			if err := fw.Add(dir); err != nil {
				w.opts.Log.Warn("config folder not watched, polled only", "folder", dir, "error", err)
			}
		}
		events, errs = fw.Events, fw.Errors
	}
	// What changed between New's read and the watch has no event: read
	// once now that every later change has one.
	_, _ = w.reload()

	poll := time.NewTicker(w.opts.Interval)
	defer poll.Stop()
	debounce := time.NewTimer(0)
	<-debounce.C
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			debounce.Reset(w.opts.Debounce)
		case err := <-errs:
			w.opts.Log.Warn("config file watch error", "error", err)
		case <-debounce.C:
			_, _ = w.reload()
		case <-poll.C:
			_, _ = w.reload()
		}
	}
}

// watchDirs returns the folders to watch: a folder path itself (a mounted
// ConfigMap swaps its "..data" link inside it), and a file's parent (editors
// and kubectl cp replace files by rename, which a watch on the file itself
// loses).
func watchDirs(paths []string) []string {
	seen := map[string]bool{}
	var dirs []string
	for _, p := range paths {
		dir := p
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			dir = filepath.Dir(p)
		}
		if !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

func digest(sources []config.Source) [sha256.Size]byte {
	h := sha256.New()
	for _, s := range sources {
		fmt.Fprintf(h, "%d:%s\n%d:", len(s.Name), s.Name, len(s.Data))
		h.Write(s.Data)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

func names(sources []config.Source) []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = s.Name
	}
	return out
}
