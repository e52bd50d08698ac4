// Package suggest finds the valid name a user most likely meant, for error
// messages such as `unknown field "imagee" (did you mean "image"?)`.
package suggest

import "strings"

// closest returns the candidate the user most likely meant by name, or ""
// when none is close enough to be a plausible slip: a candidate equal but
// for case, else the nearest by edit distance within a third of the name's
// length, else the longest one that name extends
// (annotationTriggerForContainers).
func closest(name string, candidates []string) string {
	lname := strings.ToLower(name)
	best, bestDist := "", -1
	for _, c := range candidates {
		if strings.ToLower(c) == lname {
			return c
		}
		if d := distance(name, c); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= 0 && bestDist <= min(len(name)/3, 3) {
		return best
	}
	// No near miss: a name that extends a valid one
	// (annotationTriggerForContainers) most likely meant it.
	prefix := ""
	for _, c := range candidates {
		if lc := strings.ToLower(c); len(lc) >= 4 && strings.HasPrefix(lname, lc) && len(c) > len(prefix) {
			prefix = c
		}
	}
	return prefix
}

// DidYouMean is closest phrased for an error message: ` (did you mean
// "x"?)`, or "" when there is no plausible candidate.
func DidYouMean(name string, candidates []string) string {
	if c := closest(name, candidates); c != "" {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

// distance counts the insertions, deletions, substitutions and swaps of
// adjacent bytes that turn a into b (optimal string alignment distance).
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// OneEdit reports whether a and b differ by one slip at most: case, or one
// byte inserted, deleted, replaced, or swapped with its neighbour.
func OneEdit(a, b string) bool {
	return strings.EqualFold(a, b) || distance(a, b) <= 1
}
