package format

import (
	"strconv"
	"strings"
)

// appendLhist writes the rows of one lhist() value: the buckets from the
// first to the last non-zero one, zero buckets in between included. Counts
// are never divided (print()'s div does not apply to lhist in any
// release).
//
// Labels, for lhist(x, 0, 100, 10): "(..., 0)" below Min, "[0, 10)" ...
// "[90, 100)", "[100, ...)" at or above Max. StyleLatest prints a
// one-value bucket (step 1) as "[3]". See Style and lhistBound for the K/M
// suffixes.
func (s Style) appendLhist(b *strings.Builder, buckets []uint64, p LhistParams) {
	n := p.Buckets()
	first, last := nonZeroRange(buckets, n)
	if first < 0 {
		return
	}
	var max uint64
	for i := first; i <= last; i++ {
		if buckets[i] > max {
			max = buckets[i]
		}
	}
	for i := first; i <= last; i++ {
		appendRow(b, s.lhistLabel(i, n, p), buckets[i], barLength(buckets[i], max))
	}
}

// lhistLabel is the label of bucket i of an lhist with n buckets.
func (s Style) lhistLabel(i, n int, p LhistParams) string {
	bound := func(i int) int64 { return p.Min + int64(i)*p.Step }
	if i == 0 {
		return "(..., " + s.lhistBound(p.Min, p.Step) + ")"
	}
	if s == Style017 {
		if i == n-1 {
			return "[" + s.lhistBound(p.Max, p.Step) + ", ...)"
		}
		return "[" + s.lhistBound(bound(i-1), p.Step) + ", " + s.lhistBound(bound(i), p.Step) + ")"
	}
	lower := s.lhistBound(bound(i-1), p.Step)
	switch {
	case i == n-1 || bound(i) > p.Max:
		return "[" + lower + ", ...)"
	case p.Step == 1:
		return "[" + lower + "]"
	}
	return "[" + lower + ", " + s.lhistBound(bound(i), p.Step) + ")"
}

// lhistBound writes an lhist bucket bound. Multiples of 1 Mi are written
// "NM" and other multiples of 1 Ki "NK" (0 stays "0"). Style017 does this
// for every bound; StyleLatest only when the step is a multiple of 1024, so
// that all labels of one histogram use the same notation.
func (s Style) lhistBound(v, step int64) string {
	const kilo, mega = 1024, 1024 * 1024
	if s == StyleLatest && step%kilo != 0 {
		return strconv.FormatInt(v, 10)
	}
	switch {
	case v == 0:
		return "0"
	case v%mega == 0:
		return strconv.FormatInt(v/mega, 10) + "M"
	case v%kilo == 0:
		return strconv.FormatInt(v/kilo, 10) + "K"
	}
	return strconv.FormatInt(v, 10)
}
