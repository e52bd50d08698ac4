package jsonnode

import (
	"math"
	"strconv"
)

// AppendString appends s as a JSON string, exactly as encoding/json writes
// it (see appendString). Encoders of Go values that build on this package
// use it so that their output and Marshal's agree byte for byte.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendFloat appends f the way encoding/json writes a float of the given
// size (32 or 64 bits): the shortest text that reads back as the same
// float, in exponent form only for very large or very small magnitudes,
// with a two-digit exponent trimmed to one. f must be finite.
func AppendFloat(b []byte, f float64, bits int) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 becomes 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
