package model

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// Sidecar definitions carry template actions ("{% ... %}") in their values,
// but the config is YAML, parsed before anything is rendered, and an action
// is rarely valid YAML: the old injector's files hold "value: {% x %}",
// which would open a flow mapping. So before parsing, each action is
// replaced by a token that is valid wherever the action stood: inside a
// scalar it becomes a plain word; an action alone on its line (an "if" or
// "range" around whole fields) becomes a comment, so that the YAML still
// parses and the action is refused at its line. Tokens are restored in the
// parsed value of each scalar, and that value is the scalar's template.

const (
	actionOpen  = "{%"
	actionClose = "%}"
	tokenPrefix = "sidecarinjectortpl"
	tokenSuffix = "z"
)

// action is one "{% ... %}" of a source.
type action struct {
	text        string // the action as written, delimiters included
	token       string // what stands in its place in the parsed text
	replacement string // token, or "#"+token for an action alone on its line
	structural  bool   // alone on its line: it would shape YAML structure
	line        int    // 1-based line of the action in the source
	used        bool   // restored into a value
	// Where the replacement ends in the parsed text and the action in the
	// source: line, and column of the character after it.
	parsedLine, parsedEnd int
	endLine, endCol       int
}

// placeholders is a source with its actions replaced by tokens.
type placeholders struct {
	text    string
	actions []action
	byToken map[string]int
}

// replaceActions replaces every template action of src by a token. It
// fails on an action that is opened and never closed.
func replaceActions(src string) (*placeholders, error) {
	p := &placeholders{byToken: map[string]int{}}
	if !strings.Contains(src, actionOpen) {
		p.text = src
		return p, nil
	}
	var out strings.Builder
	out.Grow(len(src))
	rest := src
	line, lineBreaks := 1, 0 // lineBreaks: those of the actions so far
	for {
		i := strings.Index(rest, actionOpen)
		if i < 0 {
			out.WriteString(rest)
			break
		}
		j := strings.Index(rest[i+len(actionOpen):], actionClose)
		if j < 0 {
			return nil, &config.Problem{Line: line + strings.Count(rest[:i], "\n"), Message: fmt.Sprintf("template action %q is never closed with %q", clip(rest[i:], 20), actionClose)}
		}
		end := i + len(actionOpen) + j + len(actionClose)
		before, act := rest[:i], rest[i:end]
		line += strings.Count(before, "\n")
		token := fmt.Sprintf("%s%d%s", tokenPrefix, len(p.actions), tokenSuffix)
		a := action{text: act, token: token, replacement: token, line: line}
		if aloneOnLine(out.String()+before, rest[end:]) {
			a.structural = true
			a.replacement = "#" + token
		}
		out.WriteString(before)
		out.WriteString(a.replacement)
		rest = rest[end:]
		a.parsedLine, a.parsedEnd = line-lineBreaks, column(out.String())
		line += strings.Count(act, "\n")
		lineBreaks += strings.Count(act, "\n")
		a.endLine, a.endCol = line, column(src[:len(src)-len(rest)])
		p.byToken[token] = len(p.actions)
		p.actions = append(p.actions, a)
	}
	p.text = out.String()
	return p, nil
}

// column is the 1-based column, in characters as YAML counts them, of the
// end of text.
func column(text string) int {
	return utf8.RuneCountInString(text[strings.LastIndexByte(text, '\n')+1:]) + 1
}

// source is the line and column in the source of a line and column of the
// parsed text (column 0: unknown), where a token may be longer or shorter
// than its action and holds none of its line breaks.
func (p *placeholders) source(line, col int) (int, int) {
	i := sort.Search(len(p.actions), func(i int) bool {
		a := p.actions[i]
		return a.parsedLine > line || a.parsedLine == line && a.parsedEnd > col
	})
	if i == 0 {
		return line, col
	}
	a := p.actions[i-1] // the last action before: the text since is as written
	if a.parsedLine == line {
		return a.endLine, a.endCol + col - a.parsedEnd
	}
	return a.endLine + line - a.parsedLine, col
}

// aloneOnLine reports whether only blanks (or other actions, already
// replaced by comments) stand between the line's start and the action, and
// only blanks or further actions between the action and the line's end.
func aloneOnLine(before, after string) bool {
	lineStart := before[strings.LastIndexByte(before, '\n')+1:]
	if strings.TrimLeft(lineStart, " \t") != "" && !strings.HasPrefix(strings.TrimLeft(lineStart, " \t"), "#"+tokenPrefix) {
		return false
	}
	lineEnd := after
	if k := strings.IndexByte(after, '\n'); k >= 0 {
		lineEnd = after[:k]
	}
	lineEnd = strings.TrimSpace(lineEnd)
	for lineEnd != "" {
		if !strings.HasPrefix(lineEnd, actionOpen) {
			return false
		}
		k := strings.Index(lineEnd, actionClose)
		if k < 0 {
			return false
		}
		lineEnd = strings.TrimSpace(lineEnd[k+len(actionClose):])
	}
	return true
}

// restoreValue puts the actions back into the value of a scalar written in
// the given style, and marks them used. The source held each action as the
// scalar's quoting escaped it (\" in a double-quoted string, ” in a
// single-quoted one), and the value holds it unescaped, as the rest of the
// value is: a template is what the config parses to, not how it is quoted.
func (p *placeholders) restoreValue(s string, style yaml.Style) string {
	unescape := func(text string) string { return text }
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		unescape = func(text string) string {
			var v string
			if !escapedForDoubleQuotes(text) || yaml.Unmarshal([]byte(`"`+text+`"`), &v) != nil {
				return text // written raw, as the old injector's files do
			}
			return v
		}
	case style&yaml.SingleQuotedStyle != 0:
		unescape = func(text string) string { return strings.ReplaceAll(text, "''", "'") }
	}
	if !p.hasTokens(s) {
		return s
	}
	var out strings.Builder
	for {
		before, idx, after, ok := p.nextToken(s)
		if !ok {
			out.WriteString(s)
			return out.String()
		}
		a := &p.actions[idx]
		a.used = true
		if a.structural {
			before = strings.TrimSuffix(before, "#")
		}
		out.WriteString(before)
		out.WriteString(unescape(a.text))
		s = after
	}
}

// escapedForDoubleQuotes reports whether every double quote of an action
// written inside a double-quoted scalar is escaped (\"): then the scalar's
// quoting applies to it. The old injector's files also hold actions with
// raw quotes inside double quotes ("-role={% annotation "x" %}"), which is
// no valid YAML and means the action as written.
func escapedForDoubleQuotes(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return false
		}
	}
	return true
}

// take marks the actions in the scalars under n used.
func (p *placeholders) take(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		p.restoreValue(n.Value, n.Style)
	}
	for _, c := range n.Content {
		p.take(c)
	}
}

// holdsActions reports whether a node or anything under it holds a token.
func (p *placeholders) holdsActions(n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode && p.hasTokens(n.Value) {
		return true
	}
	return slices.ContainsFunc(n.Content, p.holdsActions)
}

// unused reports, as problems at their lines, the actions no value took:
// those alone on their line (which would shape the YAML) and those in a
// key, a comment or a setting that is not a sidecar definition's.
func (p *placeholders) unused() []*config.Problem {
	var out []*config.Problem
	for _, a := range p.actions {
		switch {
		case a.used:
		case a.structural:
			out = append(out, &config.Problem{Line: a.line, Message: fmt.Sprintf("the template action %s stands alone on its line: an action renders a value, never YAML structure, so it cannot add or remove fields or items. "+
				"Put the condition inside the value (value: '{%% if ... %%}a{%% else %%}b{%% end %%}'), or make one sidecar per variant and one mutation per trigger", clip(a.text, 40))})
		default:
			out = append(out, &config.Problem{Line: a.line, Message: fmt.Sprintf("the template action %s is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings", clip(a.text, 40))})
		}
	}
	return out
}

// nextToken finds the first token of an action in s: the text before it,
// the action's index and the text after it; ok is false when s holds none.
func (p *placeholders) nextToken(s string) (before string, idx int, after string, ok bool) {
	for from := 0; len(p.actions) > 0; {
		i := strings.Index(s[from:], tokenPrefix)
		if i < 0 {
			break
		}
		i += from
		from = i + len(tokenPrefix)
		if end := strings.Index(s[from:], tokenSuffix); end >= 0 {
			if idx, ok := p.byToken[s[i:from+end+len(tokenSuffix)]]; ok {
				return s[:i], idx, s[from+end+len(tokenSuffix):], true
			}
		}
	}
	return s, 0, "", false
}

// hasTokens reports whether s holds the token of an action.
func (p *placeholders) hasTokens(s string) bool {
	_, _, _, ok := p.nextToken(s)
	return ok
}

func clip(s string, n int) string {
	if k := strings.IndexByte(s, '\n'); k >= 0 && k < n {
		return s[:k]
	}
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
