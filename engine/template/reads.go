package template

import "text/template/parse"

// Reads says which parts of the pod a template can read: the fields of
// the pod's spec it names (Go names, such as "ServiceAccountName"), or
// AllSpec when it may read any of them (the spec or the whole pod passed on
// as a value, a field named through a variable). The metadata (names,
// labels, annotations) is always readable. The engine uses this to build
// for each pod only the part of its typed view that templates read.
type Reads struct {
	AllSpec    bool
	SpecFields map[string]bool
}

// Reads reports what the template can read of the pod. It errs on the side
// of reading more: whatever it cannot follow counts as the whole spec.
func (t *Template) Reads() Reads {
	r := Reads{SpecFields: map[string]bool{}}
	for _, tmpl := range t.base.Templates() {
		if tmpl.Tree != nil && tmpl.Tree.Root != nil {
			r.walk(tmpl.Tree.Root)
		}
	}
	return r
}

func (r *Reads) walk(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			r.walk(c)
		}
	case *parse.ActionNode:
		r.walk(n.Pipe)
	case *parse.IfNode:
		r.branch(&n.BranchNode)
	case *parse.RangeNode:
		r.branch(&n.BranchNode)
	case *parse.WithNode:
		r.branch(&n.BranchNode)
	case *parse.TemplateNode:
		r.walk(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			r.walk(c)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			r.walk(a)
		}
	case *parse.ChainNode:
		// (pipeline).Field: what the pipeline yields is followed here.
		r.walk(n.Node)
	case *parse.FieldNode:
		r.chain(n.Ident)
	case *parse.VariableNode:
		switch {
		case n.Ident[0] == "$":
			if len(n.Ident) == 1 {
				r.AllSpec = true // the whole pod, passed on
			} else {
				r.chain(n.Ident[1:])
			}
		case len(n.Ident) > 1:
			// $x.Field: $x may hold the spec; follow nothing, read all.
			r.AllSpec = true
		}
	case *parse.DotNode:
		r.AllSpec = true // the whole pod (or, in a range, an element: read all the same)
	}
}

func (r *Reads) branch(b *parse.BranchNode) {
	r.walk(b.Pipe)
	r.walk(b.List)
	r.walk(b.ElseList)
}

// chain records a field chain read from the pod: .Spec.X needs field X of
// the spec, .Spec alone the whole spec; other chains read the metadata.
func (r *Reads) chain(ident []string) {
	if len(ident) == 0 || ident[0] != "Spec" {
		return
	}
	if len(ident) == 1 {
		r.AllSpec = true
		return
	}
	r.SpecFields[ident[1]] = true
}
