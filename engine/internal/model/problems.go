package model

import (
	"fmt"
	"sort"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// problems collects the problems of one load.
type problems struct {
	list []*config.Problem
}

func (ps *problems) add(file string, line, column int, format string, args ...any) {
	ps.list = append(ps.list, &config.Problem{File: file, Line: line, Column: column, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i], ps.list[j]
		if a.File != b.File {
			return false // keep the order the sources were given in
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &config.Error{Problems: ps.list}
}
