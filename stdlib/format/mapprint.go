package format

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Kind is the kind of value a map holds, which decides how it is sorted and
// printed.
type Kind int

// The kinds of map values.
const (
	// Scalar is an integer value: count(), sum(), min(), max() or a plain
	// assignment such as @x = 5. Entry.Int holds it (as a uint64 bit
	// pattern when Map.Unsigned). Entries are sorted by value.
	Scalar Kind = iota
	// Avg is avg(): Entry.Count and Entry.Sum. Entries are sorted by the
	// average.
	Avg
	// Stats is stats(): Entry.Count and Entry.Sum. Entries are sorted by the
	// average.
	Stats
	// Hist is hist(): Entry.Buckets. Entries are sorted by total count.
	Hist
	// Lhist is lhist(): Entry.Buckets and Map.Lhist. Entries are sorted by
	// total count.
	Lhist
	// String is a string value: Entry.Str. Entries are sorted by key.
	String
	// Tuple is a tuple value: Entry.Tuple. Entries are sorted by key.
	Tuple
)

// Key is the key of one map entry: nil for a map without keys (@x), one
// element for @x[k], several for @x[a, b]. A key that is one tuple value,
// @x[(a, b)], is the same map key as @x[a, b] in bpftrace and prints as
// "[a, b]": pass its elements, not a TupleValue.
type Key []Value

// LhistParams are the min, max and step arguments of lhist().
type LhistParams struct {
	Min, Max, Step int64
}

// Buckets returns the number of buckets an lhist with these parameters has:
// one below Min, (Max-Min)/Step in range, and one at or above Max.
func (p LhistParams) Buckets() int {
	if p.Step <= 0 || p.Max < p.Min {
		return 2
	}
	return int((p.Max-p.Min)/p.Step) + 2
}

// Map is one bpftrace map as the runtime read it from the kernel, with
// per-CPU values already merged.
type Map struct {
	// Name is the map's name including '@': "@", "@name".
	Name string
	// Kind is the kind of the values.
	Kind Kind
	// Unsigned says that a Scalar map's values are unsigned (count(), or a
	// uint64 assignment): Entry.Int holds the uint64 bit pattern.
	Unsigned bool
	// Entries are the map's entries in any order; printing sorts them.
	Entries []Entry
	// Lhist holds lhist()'s parameters for a Lhist map.
	Lhist LhistParams
	// HistBits is hist()'s k for a Hist map: 2^k buckets per power of two.
	HistBits int
	// RecordNames are the field names of a Tuple map whose values are
	// records, which print as "{ .a = 1, .b = x }".
	RecordNames []string
}

// Entry is one key and its value. Which fields are used depends on
// Map.Kind.
type Entry struct {
	// Key is the entry's key; nil for a map without keys.
	Key Key
	// Int is a Scalar value.
	Int int64
	// Count and Sum are the number and total of the values given to avg()
	// or stats(). The average is Sum/Count, truncated toward zero as C
	// does (avg of -1 and -2 is -1), and 0 when Count is 0.
	Count, Sum int64
	// Buckets are the counts of a Hist or Lhist.
	//
	// Hist: index 0 counts negative values, 1 the value 0, 2 the value 1,
	// and index i >= 3 the values in [2^(i-2), 2^(i-1)): 3 is [2, 4), 4 is
	// [4, 8), ..., 12 is [1K, 2K); 65 entries cover all int64 values.
	//
	// Lhist: index 0 counts values below Min, index i in 1..n (n =
	// (Max-Min)/Step) the values in [Min+(i-1)*Step, Min+i*Step), and
	// index n+1 the values at or above Min+n*Step.
	//
	// Trailing buckets may be omitted; missing ones count as zero.
	Buckets []uint64
	// Str is a String value.
	Str string
	// Tuple is a Tuple value.
	Tuple []Value
}

// Style selects which bpftrace release's map layout to reproduce. The zero
// value is StyleLatest.
//
// The two styles differ only where bpftrace changed its output after 0.17.
// "Latest" below means 0.26.1, read from its source, tests and docs; a
// version is named where the change was traced to its release.
//
//   - stats(): 0.17 prints "@s: count 2, average 7, total 15"; 0.24.0 and
//     later print "@s: { .count = 2, .average = 7, .total = 15 }". The
//     stats() section of the current docs/stdlib.md still shows the old
//     form, but bpftrace's own runtime tests (tests/runtime/call,
//     signed_ints, intcast) expect the new one since the output rewrite of
//     0.24.0 (bpftrace PR #4302).
//   - hist()/lhist() headers: 0.17 prints "@h: " with a trailing space before
//     the newline; latest prints "@h:" (as the current docs show).
//   - avg()/stats() maps: 0.17 prints a blank line after the map; latest
//     does not (bpftrace PR #3338, 0.22.0, put avg on the path of the other
//     maps).
//   - empty maps: 0.17 prints "\n" for an empty map ("\n\n" for avg() and
//     stats()); latest prints nothing. (After 0.26.1, unreleased PR #5239
//     makes print() of an empty map without keys print "@x: 0".)
//   - lhist() labels: 0.17 writes any bound divisible by 1024 as "NK" or
//     "NM" ("[300000000, 390625K)"); since 0.21.0 only when the step is a
//     multiple of 1024 (commit "Fix inconsistent lhist bucket labels").
//     Latest prints a bucket holding one value (step 1) as "[3]" rather
//     than "[3, 4)", and the overflow bucket of an lhist whose range is not
//     a multiple of its step as "[Min+n*Step, ...)" rather than "[Max, ...)".
//   - hist() labels past 2^50: 0.17 only knows K, M, G and T ("[1024T,
//     2048T)"); since 0.20.0 P and E follow ("[1P, 2P)").
//   - print(@h, top, div) on a hist(): both divide the counts, but 0.17
//     scales the bars by the undivided counts and latest by the divided
//     ones.
//   - print(@s, top, div) on a stats() map: 0.17 ignores top and div; latest
//     applies top and divides the average (not count and total), although
//     its type checker still warns that both are ignored.
//
// Kept as in 0.17 in both styles: min()/max() maps sort by signed value
// (0.26.1 compares the raw 64 bits as unsigned, which puts negative values
// last; that looks like an accident rather than a decision).
//
// Entries whose sort values are equal are printed in key order (see
// CompareKeys). bpftrace prints them in the kernel's hash-table order,
// which cannot be reproduced.
type Style int

// The styles.
const (
	// StyleLatest is the output of bpftrace 0.26.1, the newest release
	// when this was written (0.24.0 and later for the stats() layout).
	StyleLatest Style = iota
	// Style017 is the output of bpftrace 0.17.0, verified byte for byte
	// against the installed binary (testdata/format).
	Style017
)

// EndOfRun is what bpftrace writes to stdout when the run ends (exit() or
// Ctrl-C), after the END probes' output and before the maps are dumped.
// Both 0.17 and 0.26 write it even when no map is printed.
const EndOfRun = "\n\n"

// WriteMap writes m as bpftrace's latest release prints it, either at exit
// or for print(@m), including the blank line it puts after a histogram.
func WriteMap(w io.Writer, m *Map) error { return StyleLatest.PrintMap(w, m, 0, 0) }

// PrintMap writes what print(@m, top, div) prints in bpftrace's latest
// release. top > 0 keeps only the last top entries in sort order (the
// largest); div > 0 divides the printed values. See Style.PrintMap.
func PrintMap(w io.Writer, m *Map, top, div uint64) error {
	return StyleLatest.PrintMap(w, m, top, div)
}

// WriteMaps writes the end-of-run map dump of bpftrace's latest release:
// every map in maps, in byte order of their names. It does not write
// EndOfRun; the runtime writes that first.
func WriteMaps(w io.Writer, maps []*Map) error { return StyleLatest.WriteMaps(w, maps) }

// WriteMap writes m in style s, as at exit or for print(@m).
func (s Style) WriteMap(w io.Writer, m *Map) error { return s.PrintMap(w, m, 0, 0) }

// WriteMaps writes the end-of-run dump in style s: all maps, sorted by name
// (bpftrace keeps its maps in a std::map keyed by name), each as WriteMap
// writes it. The runtime must pass every map of the program, empty ones
// included: Style017 prints a blank line for an empty map. There are no
// separators besides the blank lines that WriteMap itself writes.
func (s Style) WriteMaps(w io.Writer, maps []*Map) error {
	sorted := append([]*Map(nil), maps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	bw := bufio.NewWriter(w)
	for _, m := range sorted {
		if err := s.PrintMap(bw, m, 0, 0); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// PrintMap writes what print(@m, top, div) prints in style s; top == 0 and
// div == 0 mean absent, and print(@m) and the end-of-run dump print the
// same.
//
// Entries are sorted ascending: Scalar by value, Avg and Stats by average,
// Hist and Lhist by the total of their buckets, String and Tuple by key.
// top > 0 keeps the last top entries. div divides Scalar and Avg values and
// Hist counts (integer division, truncating toward zero); Lhist, String
// and Tuple values are never divided, and Stats as described on Style.
//
// Layout: a value line is "@name[key]: value\n" ("@name: value\n" without
// key). A histogram is a header line "@name[key]:\n" followed by its rows
// and a blank line. See Style for what differs between releases.
func (s Style) PrintMap(w io.Writer, m *Map, top, div uint64) error {
	if div == 0 {
		div = 1
	}
	entries := s.sortedEntries(m)
	if m.Kind == Stats && s == Style017 {
		top = 0 // 0.17 ignores top (and div) for stats()
	}
	if top > 0 && uint64(len(entries)) > top {
		entries = entries[uint64(len(entries))-top:]
	}
	var b strings.Builder
	switch m.Kind {
	case Hist, Lhist:
		for _, e := range entries {
			b.WriteString(m.Name)
			b.WriteString(FormatKey(e.Key))
			b.WriteByte(':')
			if s == Style017 {
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
			if m.Kind == Hist {
				s.appendHist(&b, e.Buckets, div, m.HistBits)
			} else {
				s.appendLhist(&b, e.Buckets, m.Lhist)
			}
			b.WriteByte('\n')
		}
		if len(entries) == 0 && s == Style017 {
			b.WriteByte('\n')
		}
	default:
		for _, e := range entries {
			b.WriteString(m.Name)
			b.WriteString(FormatKey(e.Key))
			b.WriteString(": ")
			s.appendEntryValue(&b, m, e, div)
			b.WriteByte('\n')
		}
		if s == Style017 {
			if len(entries) == 0 {
				b.WriteByte('\n')
			}
			if m.Kind == Avg || m.Kind == Stats {
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// appendEntryValue writes the value of a non-histogram entry.
func (s Style) appendEntryValue(b *strings.Builder, m *Map, e Entry, div uint64) {
	switch m.Kind {
	case Scalar:
		if m.Unsigned {
			b.WriteString(strconv.FormatUint(uint64(e.Int)/div, 10))
		} else {
			b.WriteString(strconv.FormatInt(divInt(e.Int, div), 10))
		}
	case Avg:
		b.WriteString(strconv.FormatInt(divInt(Average(e.Count, e.Sum), div), 10))
	case Stats:
		if s == Style017 {
			div = 1
		}
		b.WriteString(s.FormatStats(e.Count, e.Sum, div))
	case String:
		b.WriteString(e.Str)
	case Tuple:
		if m.RecordNames != nil {
			appendValue(b, RecordValue{Names: m.RecordNames, Values: e.Tuple})
		} else {
			appendValue(b, TupleValue(e.Tuple))
		}
	}
}

// divInt divides a signed value by div as C++ does for int64 / uint32:
// truncating toward zero.
func divInt(v int64, div uint64) int64 {
	if div > 1<<63-1 {
		return 0
	}
	return v / int64(div)
}

// FormatKey renders an entry key as bpftrace prints it after the map name:
// "" for no key, "[1]", "[-3]", "[nginx]" (strings are not quoted),
// "[1, a]" for several elements.
func FormatKey(k Key) string {
	if len(k) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		if st, ok := v.(Stack); ok {
			b.WriteString(st.keyText())
			continue
		}
		appendValue(&b, v)
	}
	b.WriteByte(']')
	return b.String()
}

// sortedEntries returns m's entries in print order.
func (s Style) sortedEntries(m *Map) []Entry {
	entries := append([]Entry(nil), m.Entries...)
	var less func(a, b *Entry) int
	switch m.Kind {
	case Scalar:
		if m.Unsigned {
			less = func(a, b *Entry) int { return cmpOrdered(uint64(a.Int), uint64(b.Int)) }
		} else {
			less = func(a, b *Entry) int { return cmpOrdered(a.Int, b.Int) }
		}
	case Avg, Stats:
		less = func(a, b *Entry) int {
			return cmpOrdered(Average(a.Count, a.Sum), Average(b.Count, b.Sum))
		}
	case Hist, Lhist:
		less = func(a, b *Entry) int { return cmpOrdered(total(a.Buckets), total(b.Buckets)) }
	default:
		less = func(a, b *Entry) int { return 0 }
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if c := less(&entries[i], &entries[j]); c != 0 {
			return c < 0
		}
		return s.CompareKeys(entries[i].Key, entries[j].Key) < 0
	})
	return entries
}

func total(buckets []uint64) uint64 {
	var t uint64
	for _, c := range buckets {
		t += c
	}
	return t
}

func cmpOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CompareKeys orders two keys the way style s sorts maps of strings and
// tuples: element by element; integers by their 64-bit pattern, compared as
// unsigned in Style017 (so -1 sorts after 100, as bpftrace 0.17 does) and
// as signed in StyleLatest; strings byte-wise; a shorter key first when it
// is a prefix of the other. It also breaks ties between equal values.
func (s Style) CompareKeys(a, b Key) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := s.compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpOrdered(int64(len(a)), int64(len(b)))
}

func (s Style) compareValues(a, b Value) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return cmpOrdered(int64(ra), int64(rb))
	}
	switch ra {
	case 0:
		x, _ := intBits(a)
		y, _ := intBits(b)
		if s == Style017 {
			return cmpOrdered(x, y)
		}
		return cmpOrdered(int64(x), int64(y))
	case 1:
		return strings.Compare(a.(string), b.(string))
	case 2:
		return s.CompareKeys(Key(a.(TupleValue)), Key(b.(TupleValue)))
	}
	return strings.Compare(FormatValue(a), FormatValue(b))
}

func rank(v Value) int {
	if _, ok := intBits(v); ok {
		return 0
	}
	switch v.(type) {
	case string:
		return 1
	case TupleValue:
		return 2
	}
	return 3
}
