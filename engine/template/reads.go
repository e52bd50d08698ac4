package template

import "text/template/parse"

// Reads says which parts of the pod a template can read: the fields of
// the pod's spec and of its metadata it names (Go names, such as
// "ServiceAccountName" or "Annotations"), or AllSpec and AllMeta when it
// may read any of them (the whole pod passed on as a value, a field named
// through a variable). The engine uses this to build for each pod only
// the part of its typed view that templates read.
type Reads struct {
	AllSpec    bool
	SpecFields map[string]bool
	AllMeta    bool
	MetaFields map[string]bool
}

// Reads reports what the template can read of the pod. It errs on the side
// of reading more: whatever it cannot follow counts as the whole pod.
func (t *Template) Reads() Reads {
	r := Reads{SpecFields: map[string]bool{}, MetaFields: map[string]bool{}}
	for _, tmpl := range t.base.Templates() {
		if tmpl.Tree != nil && tmpl.Tree.Root != nil {
			r.walk(tmpl.Tree.Root)
		}
	}
	return r
}

// all records a read of anything in the pod.
func (r *Reads) all() { r.AllSpec, r.AllMeta = true, true }

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
				r.all() // the whole pod, passed on
			} else {
				r.chain(n.Ident[1:])
			}
		case len(n.Ident) > 1:
			// $x.Field: $x may hold the spec; follow nothing, read all.
			r.all()
		}
	case *parse.DotNode:
		r.all() // the whole pod (or, in a range, an element: read all the same)
	case *parse.IdentifierNode:
		switch n.Ident {
		case "annotation":
			r.MetaFields["Annotations"] = true
		case "label":
			r.MetaFields["Labels"] = true
		}
	}
}

func (r *Reads) branch(b *parse.BranchNode) {
	r.walk(b.Pipe)
	r.walk(b.List)
	r.walk(b.ElseList)
}

// chain records a field chain read from the pod: .Spec.X needs field X of
// the spec, .Spec alone the whole spec, and likewise .ObjectMeta; any other
// chain starts with a field of the metadata, promoted to the pod (.Name,
// .Annotations), or names something that is not read from the pod's
// object (.Kind, .Status: constant or never filled in).
func (r *Reads) chain(ident []string) {
	if len(ident) == 0 {
		return
	}
	switch ident[0] {
	case "Spec":
		if len(ident) == 1 {
			r.AllSpec = true
			return
		}
		r.SpecFields[ident[1]] = true
	case "ObjectMeta":
		if len(ident) == 1 {
			r.AllMeta = true
			return
		}
		r.MetaFields[ident[1]] = true
	default:
		r.MetaFields[ident[0]] = true
	}
}
