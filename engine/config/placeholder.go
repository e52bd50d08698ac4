package config

import (
	"fmt"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"strings"
)

// Sidecar definitions carry template actions ("{% ... %}") anywhere in their
// text, but YAML must be parsed first to know where one sidecar ends and the
// next begins, and an action is rarely valid YAML ("value: {% x %}" opens a
// flow mapping). So before parsing, each action is replaced by a token that
// is valid wherever the action stood: inside a scalar it becomes a plain
// word; an action alone on its line (an "if" or "range" around whole fields)
// becomes a comment, which leaves the YAML structure as it is. Tokens are
// restored when a sidecar's template text is cut out of the source.

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
	structural  bool   // alone on its line: it may shape YAML structure
	line        int    // 1-based line of the action in the source
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
	line := 1
	for {
		i := strings.Index(rest, actionOpen)
		if i < 0 {
			out.WriteString(rest)
			break
		}
		j := strings.Index(rest[i+len(actionOpen):], actionClose)
		if j < 0 {
			return nil, &Problem{Line: line + strings.Count(rest[:i], "\n"), Message: fmt.Sprintf("template action %q is never closed with %q", clip(rest[i:], 20), actionClose)}
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
		p.byToken[token] = len(p.actions)
		p.actions = append(p.actions, a)
		out.WriteString(before)
		out.WriteString(a.replacement)
		line += strings.Count(act, "\n")
		rest = rest[end:]
	}
	p.text = out.String()
	return p, nil
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
// the given style. The source held each action as the scalar's quoting
// escaped it (\" in a double-quoted string, ” in a single-quoted one), and
// the value must hold it unescaped, as the rest of the value is.
func (p *placeholders) restoreValue(s string, style yaml.Style) string {
	unescape := func(text string) string { return text }
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		unescape = func(text string) string {
			var v string
			if yaml.Unmarshal([]byte(`"`+text+`"`), &v) != nil {
				return text
			}
			return v
		}
	case style&yaml.SingleQuotedStyle != 0:
		unescape = func(text string) string { return strings.ReplaceAll(text, "''", "'") }
	}
	return p.restoreWith(s, unescape)
}

// restore puts the actions back into s, a piece of the replaced text.
func (p *placeholders) restore(s string) string {
	return p.restoreWith(s, func(text string) string { return text })
}

func (p *placeholders) restoreWith(s string, unescape func(string) string) string {
	if len(p.actions) == 0 || !strings.Contains(s, tokenPrefix) {
		return s
	}
	var out strings.Builder
	for {
		i := strings.Index(s, tokenPrefix)
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		idx, n := p.tokenAt(s[i:])
		if n == 0 {
			out.WriteString(s[:i+len(tokenPrefix)])
			s = s[i+len(tokenPrefix):]
			continue
		}
		a := p.actions[idx]
		start := i
		if a.structural && i > 0 && s[i-1] == '#' {
			start = i - 1
		}
		out.WriteString(s[:start])
		out.WriteString(unescape(a.text))
		s = s[i+n:]
	}
}

// tokenAt reads the token at the start of s: the action's index and the
// token's length, or length 0 when s does not start with a known token.
func (p *placeholders) tokenAt(s string) (int, int) {
	end := strings.Index(s[len(tokenPrefix):], tokenSuffix)
	if end < 0 {
		return 0, 0
	}
	n := len(tokenPrefix) + end + len(tokenSuffix)
	idx, ok := p.byToken[s[:n]]
	if !ok {
		return 0, 0
	}
	return idx, n
}

// tokensIn lists the indexes of the actions whose tokens appear in s.
func (p *placeholders) tokensIn(s string) []int {
	var idx []int
	for len(p.actions) > 0 {
		i := strings.Index(s, tokenPrefix)
		if i < 0 {
			return idx
		}
		k, n := p.tokenAt(s[i:])
		if n == 0 {
			s = s[i+len(tokenPrefix):]
			continue
		}
		idx = append(idx, k)
		s = s[i+n:]
	}
	return idx
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
