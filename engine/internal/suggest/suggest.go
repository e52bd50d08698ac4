// Package suggest finds the valid name a user most likely meant, for error
// messages such as `unknown field "imagee" (did you mean "image"?)`.
package suggest

import "strings"

// Closest returns the candidate nearest to name by edit distance (case
// folded), or "" when none is close enough to be a plausible typo.
func Closest(name string, candidates []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	// A name that extends a valid one (annotationTriggerForContainers) most
	// likely meant it, however many letters were added.
	for _, c := range candidates {
		if lc := strings.ToLower(c); len(lc) >= 4 && strings.HasPrefix(lname, lc) && len(c) > len(best) {
			best = c
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		d := distance(lname, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// A suggestion that changes more than a third of the name is noise.
	if bestDist < 0 || bestDist > max(2, len(name)/3) {
		return ""
	}
	return best
}

// DidYouMean is Closest phrased for an error message: ` (did you mean
// "x"?)`, or "" when there is no plausible candidate.
func DidYouMean(name string, candidates []string) string {
	if c := Closest(name, candidates); c != "" {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
