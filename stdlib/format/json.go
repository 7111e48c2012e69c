package format

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON output (-f json) is newline-delimited: one object per line, in the
// layout of bpftrace's JsonOutput. This file renders the parts of those
// objects that are values and maps; the runtime writes the envelopes
// ({"type": "printf", "data": ...} and the rest).
//
// Spacing follows bpftrace: ", " and ": " inside objects, "," alone
// inside arrays.
//
// Where bpftrace's own output is not valid JSON, or loses information,
// gotrace departs from it:
//
//   - Strings: bpftrace escapes '"', '\\', \n, \r, \t and other bytes
//     below 0x20 (as \u00XX), and copies every other byte as it is, so a
//     string that is not valid UTF-8 makes invalid JSON (0.17 even writes
//     a byte >= 0x80 as a broken "\uffffffXX"). gotrace escapes the same
//     characters the same way and copies valid UTF-8 sequences as they
//     are, so output agrees with bpftrace wherever bpftrace's is valid; but
//     each byte that is not part of a valid UTF-8 sequence is written as
//     \u00XX, XX being the byte's value. A decoder then reads that byte as
//     the code point U+00XX: the text stays readable, every line stays
//     valid JSON, and the byte value can be recovered (though not told
//     apart from a real U+00XX character, which is written as its UTF-8).
//   - Integers are exact: every int64 and uint64 is written in decimal,
//     18446744073709551615 included. (bpftrace 0.17 does the same; newer
//     releases write integers a double cannot hold exactly as strings.)
//   - Map keys with several elements are joined with "," and no spaces
//     ("comm,2"), as bpftrace writes them; bpftrace also deletes the spaces
//     inside string elements, gotrace keeps them.
//   - buf() values are arrays of byte values, 0..255 (bpftrace writes
//     them as arrays of signed chars).

// AppendJSONString appends s as a JSON string literal (see above for the
// escaping).
func AppendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
				i++
				continue
			}
			b = append(b, s[i:i+n]...)
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}

// AppendJSONValue appends an event or map value: integers as numbers,
// strings as strings, booleans as true/false, tuples as arrays, records
// as objects and buffers as arrays of byte values. Values of other types
// are written as the string FormatValue makes of them.
func AppendJSONValue(b []byte, v Value) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case string:
		return AppendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case []byte:
		b = append(b, '[')
		for i, c := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		return append(b, ']')
	case TupleValue:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONValue(b, e)
		}
		return append(b, ']')
	case RecordValue:
		b = append(b, '{')
		for i, e := range x.Values {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendJSONString(b, x.Names[i])
			b = append(b, ": "...)
			b = AppendJSONValue(b, e)
		}
		return append(b, '}')
	case nil:
		return append(b, "null"...)
	}
	return AppendJSONString(b, FormatValue(v))
}

// JSONKey is the member name an entry's key has in a map's JSON object:
// the key's elements as FormatValue writes them, joined with ",".
func JSONKey(k Key) string {
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = FormatValue(v)
	}
	return strings.Join(parts, ",")
}

// JSONMapType is the "type" of the JSON record of a map of kind k, as
// bpftrace names it: "hist" for hist() and lhist(), "stats" for stats()
// and avg(), "map" for the others.
func JSONMapType(k Kind) string {
	switch k {
	case Hist, Lhist:
		return "hist"
	case Avg, Stats:
		return "stats"
	}
	return "map"
}

// AppendJSONMap appends the data of the JSON record of print(@m, top,
// div) (top and div 0 when absent), or of m in the end-of-run dump:
// {"@name": VALUE}, where VALUE is the value of a map without keys and
// otherwise an object with one member per entry (see JSONKey), in the
// order text output prints them. It returns b unchanged and false for a
// map with nothing to print (no entries), which bpftrace does not print
// in JSON either.
//
// Values: Scalar maps hold numbers; String maps strings; Tuple maps arrays
// (or objects when the tuples are records); Avg maps the average (divided
// by div); Stats maps {"count": C, "average": A, "total": T}; Hist and
// Lhist maps arrays of buckets {"min": LO, "max": HI, "count": N}, from
// the first to the last non-zero bucket, LO and HI being the smallest and
// largest value the bucket holds. The bucket of values below every other
// has no "min", that of values above every other no "max". Counts of hist
// (not lhist) buckets are divided by div, as in text.
func (s Style) AppendJSONMap(b []byte, m *Map, top, div uint64) ([]byte, bool) {
	if div == 0 {
		div = 1
	}
	entries := s.sortedEntries(m)
	if top > 0 && uint64(len(entries)) > top {
		entries = entries[uint64(len(entries))-top:]
	}
	if len(entries) == 0 {
		return b, false
	}
	b = append(b, '{')
	b = AppendJSONString(b, m.Name)
	b = append(b, ": "...)
	if len(entries) == 1 && entries[0].Key == nil {
		b = s.appendJSONEntry(b, m, entries[0], div)
		return append(b, '}'), true
	}
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendJSONString(b, JSONKey(e.Key))
		b = append(b, ": "...)
		b = s.appendJSONEntry(b, m, e, div)
	}
	return append(b, "}}"...), true
}

// appendJSONEntry appends the value of one entry.
func (s Style) appendJSONEntry(b []byte, m *Map, e Entry, div uint64) []byte {
	switch m.Kind {
	case Scalar:
		if m.Unsigned {
			return strconv.AppendUint(b, uint64(e.Int)/div, 10)
		}
		return strconv.AppendInt(b, divInt(e.Int, div), 10)
	case Avg:
		return strconv.AppendInt(b, divInt(Average(e.Count, e.Sum), div), 10)
	case Stats:
		b = append(b, `{"count": `...)
		b = strconv.AppendInt(b, e.Count, 10)
		b = append(b, `, "average": `...)
		b = strconv.AppendInt(b, divInt(Average(e.Count, e.Sum), div), 10)
		b = append(b, `, "total": `...)
		b = strconv.AppendInt(b, e.Sum, 10)
		return append(b, '}')
	case String:
		return AppendJSONString(b, e.Str)
	case Tuple:
		if m.RecordNames != nil {
			return AppendJSONValue(b, RecordValue{Names: m.RecordNames, Values: e.Tuple})
		}
		return AppendJSONValue(b, TupleValue(e.Tuple))
	case Hist:
		return appendJSONBuckets(b, e.Buckets, len(e.Buckets), div, func(i int) (lo, hi bucketBound) {
			return histBucketRange(i, m.HistBits)
		})
	case Lhist:
		p := m.Lhist
		n := p.Buckets()
		return appendJSONBuckets(b, e.Buckets, n, 1, func(i int) (lo, hi bucketBound) {
			return lhistBucketRange(i, n, p)
		})
	}
	return append(b, "null"...)
}

// bucketBound is one end of a histogram bucket; absent ends are left out.
type bucketBound struct {
	v      int64
	u      uint64
	signed bool
	ok     bool
}

func (v bucketBound) append(b []byte) []byte {
	if v.signed {
		return strconv.AppendInt(b, v.v, 10)
	}
	return strconv.AppendUint(b, v.u, 10)
}

func signedBound(v int64) bucketBound    { return bucketBound{v: v, signed: true, ok: true} }
func unsignedBound(v uint64) bucketBound { return bucketBound{u: v, ok: true} }

// appendJSONBuckets appends the buckets[:n] from the first to the last
// non-zero one; rng gives each bucket's range.
func appendJSONBuckets(b []byte, buckets []uint64, n int, div uint64, rng func(i int) (lo, hi bucketBound)) []byte {
	b = append(b, '[')
	first, last := nonZeroRange(buckets, n)
	for i := first; first >= 0 && i <= last; i++ {
		if i > first {
			b = append(b, ',')
		}
		lo, hi := rng(i)
		b = append(b, '{')
		if lo.ok {
			b = append(b, `"min": `...)
			b = lo.append(b)
			b = append(b, ", "...)
		}
		if hi.ok {
			b = append(b, `"max": `...)
			b = hi.append(b)
			b = append(b, ", "...)
		}
		b = append(b, `"count": `...)
		b = strconv.AppendUint(b, buckets[i]/div, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// histBucketRange is the range of bucket i of a hist() with 2^k buckets
// per power of two (see Style.histLabel): bucket 0 holds the negative
// values, the next 2^(k+1) one value each, and the others [2^p * (2^k+j),
// 2^p * (2^k+j+1)).
func histBucketRange(i, k int) (lo, hi bucketBound) {
	switch {
	case i == 0:
		return bucketBound{}, signedBound(-1)
	case i <= 2<<k:
		return unsignedBound(uint64(i - 1)), unsignedBound(uint64(i - 1))
	}
	return unsignedBound(histBoundValue(i-1, k)), unsignedBound(histBoundValue(i, k) - 1)
}

// histBoundValue is the first value above bucket i (see Style.histBound).
// Past the last bucket it is 2^64, which wraps to 0, so that the largest
// bucket's last value is 2^64-1.
func histBoundValue(i, k int) uint64 {
	if i <= 2<<k {
		return uint64(i)
	}
	n := 1 << k
	p := i>>k - 1
	m := uint64(n + i&(n-1))
	if p >= 64 {
		return 0
	}
	return m << uint(p)
}

// lhistBucketRange is the range of bucket i of an lhist with n buckets:
// below Min, [Min+(i-1)*Step, Min+i*Step), and from Min+(n-2)*Step on.
func lhistBucketRange(i, n int, p LhistParams) (lo, hi bucketBound) {
	switch {
	case i == 0:
		return bucketBound{}, signedBound(p.Min - 1)
	case i == n-1:
		return signedBound(p.Min + int64(i-1)*p.Step), bucketBound{}
	}
	return signedBound(p.Min + int64(i-1)*p.Step), signedBound(p.Min + int64(i)*p.Step - 1)
}
