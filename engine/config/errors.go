package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong in a config source, with where it is.
type Problem struct {
	File    string // the source's name
	Line    int    // 1-based; 0 when unknown
	Column  int    // 1-based; 0 when unknown
	Message string // what is wrong and, where it helps, what to do
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is every problem found while loading a configuration: all the
// problems of every file are reported together, so that one run of the tool
// shows everything there is to fix.
type Error struct {
	Problems []*Problem
	// Warnings are not why loading failed, but are worth fixing with the
	// rest (see engine.Injector.Warnings).
	Warnings []*Problem
}

func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	if len(e.Problems) > 1 {
		lines = append(lines, fmt.Sprintf("%d problems in the sidecar injector config:", len(e.Problems)))
	}
	for _, p := range e.Problems {
		lines = append(lines, p.Error())
	}
	for _, w := range e.Warnings {
		lines = append(lines, "warning: "+w.Error())
	}
	return strings.Join(lines, "\n")
}
