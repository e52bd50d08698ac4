//go:build race

package template

// raceSlowdown widens the hazard tests' memory budget: under the race
// detector one step of a template runs several times slower, so the step
// that crosses the time limit finishes later and allocates more.
const raceSlowdown = 4
