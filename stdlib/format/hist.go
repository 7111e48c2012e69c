package format

import (
	"strconv"
	"strings"
)

// Histogram rows, shared by hist() and lhist(): the bucket label
// left-aligned in 16 columns (longer labels are not cut), the count
// right-aligned in 8, " |", a bar of '@' left-aligned in 52 columns, "|".
const (
	labelWidth = 16
	countWidth = 8
	barWidth   = 52
)

// appendRow writes one histogram row.
func appendRow(b *strings.Builder, label string, count uint64, bar int) {
	b.WriteString(label)
	if n := labelWidth - len(label); n > 0 {
		b.WriteString(strings.Repeat(" ", n))
	}
	c := strconv.FormatUint(count, 10)
	if n := countWidth - len(c); n > 0 {
		b.WriteString(strings.Repeat(" ", n))
	}
	b.WriteString(c)
	b.WriteString(" |")
	b.WriteString(strings.Repeat("@", bar))
	b.WriteString(strings.Repeat(" ", barWidth-bar))
	b.WriteString("|\n")
}

// barLength is the number of '@' for count when the largest count is max.
// bpftrace computes it in single precision, count / (float)max * 52,
// truncated; this does the same so rounding matches exactly.
func barLength(count, max uint64) int {
	if max == 0 || count == 0 {
		return 0
	}
	q := float32(count) / float32(max)
	w := int(q * barWidth)
	if w > barWidth {
		w = barWidth
	}
	return w
}

// nonZeroRange returns the first and last index of buckets[:n] with a
// non-zero count, or -1, -1.
func nonZeroRange(buckets []uint64, n int) (first, last int) {
	first, last = -1, -1
	for i := 0; i < n && i < len(buckets); i++ {
		if buckets[i] != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// appendHist writes the rows of one hist(n, k) value: the buckets from the
// first to the last non-zero one, zero buckets in between included.
//
// Labels with k = 0: "(..., 0)" for negative values, "[0]", "[1]", then
// "[2, 4)", "[4, 8)", ..., with powers of 1024 written as K, M, G, T (and,
// in StyleLatest, P and E): "[512, 1K)", "[1K, 2K)", "[1M, 2M)",
// "[1G, 2G)", "[1T, 2T)". With k > 0 each power of two has 2^k buckets:
// k = 1 gives "[0]", "[1]", "[2]", "[3]", "[4, 6)", "[6, 8)", "[8, 12)",
// and so on; a bound m * 2^p takes the suffix of 2^p, as bpftrace writes
// it, so k = 1 has "[1024, 1536)", "[1536, 2K)", "[2K, 3K)". Counts are
// divided by div; see Style for how the bars are scaled then.
func (s Style) appendHist(b *strings.Builder, buckets []uint64, div uint64, k int) {
	first, last := nonZeroRange(buckets, len(buckets))
	if first < 0 {
		return
	}
	var max uint64
	for i := first; i <= last; i++ {
		c := buckets[i]
		if s == StyleLatest {
			c /= div
		}
		if c > max {
			max = c
		}
	}
	for i := first; i <= last; i++ {
		shown := buckets[i] / div
		barCount := buckets[i]
		if s == StyleLatest {
			barCount = shown
		}
		appendRow(b, s.histLabel(i, k), shown, barLength(barCount, max))
	}
}

// histLabel is the label of bucket i of a log2 histogram with 2^k buckets
// per power of two (see stdlib's log2Bucket for the numbering). The first
// 2^(k+1) buckets above the negative one hold one value each, i-1.
func (s Style) histLabel(i, k int) string {
	switch {
	case i == 0:
		return "(..., 0)"
	case i <= 2<<k:
		return "[" + strconv.Itoa(i-1) + "]"
	}
	return "[" + s.histBound(i-1, k) + ", " + s.histBound(i, k) + ")"
}

// histBound is the first value above bucket i, which starts bucket i+1.
// Bucket i's power of two is p = i>>k - 1 and its place in that power's
// 2^k buckets is j = i & (2^k-1): the bound is 2^p * (2^k + j).
func (s Style) histBound(i, k int) string {
	if i <= 2<<k {
		return strconv.Itoa(i)
	}
	n := 1 << k
	p := i>>k - 1
	return s.pow2Multiple(p, uint64(n+i&(n-1)))
}

// pow2Multiple writes m * 2^p with the largest power of 1024 as a suffix:
// 2^11 is "2K", 5 * 2^10 is "5K", 2^40 is "1T". Style017 stops at T (2^50
// is "1024T"); StyleLatest goes on to P and E (2^50 is "1P", 2^63 is "8E").
func (s Style) pow2Multiple(p int, m uint64) string {
	const suffixes = "KMGTPE"
	decade := p / 10
	if s == Style017 && decade > 4 {
		decade = 4
	}
	if decade > len(suffixes) {
		decade = len(suffixes)
	}
	n := strconv.FormatUint(m<<uint(p-10*decade), 10)
	if decade == 0 {
		return n
	}
	return n + string(suffixes[decade-1])
}
