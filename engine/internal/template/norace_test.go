//go:build !race

package template

const raceSlowdown = 1
